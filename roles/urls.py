from django.urls import path

from roles import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    # The phones that stay signed in ("记住这台手机", issue 17): the member's own, and the director's view of the team.
    path("account/phones/", views.phones, name="phones"),
    path("account/phones/<int:device_id>/revoke/", views.phone_revoke, name="phone-revoke"),
]
