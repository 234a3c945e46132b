"""Checklist API: list a day, read one list, tick and untick items. Same services as the pages."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response

from checklists.daily.selectors import checklist_list, item_access_by_id
from checklists.daily.serializers import (
    ChecklistItemSerializer,
    ChecklistQuerySerializer,
    ChecklistSerializer,
    TickInputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
    checklist_data,
    checklists_data,
    item_data,
)
from checklists.daily.ticks import tick_record, tick_undo
from checklists.models import Checklist, ChecklistItem
from opsteam.lib.clock import local_date
from opsteam.lib.images import image_response
from opsteam.lib.net import client_ip
from opsteam.parsers import JSONParser
from roles.login import lockout_minutes
from roles.selectors import member_get_for_user


class IsTeamMember(BasePermission):
    """Authenticated and an active member of an active team; sets request.member."""

    message = _("Your login is not a member of any team.")

    def has_permission(self, request, view) -> bool:
        member = member_get_for_user(user=request.user)
        request.member = member
        return member is not None


class ChecklistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Checklists the caller may see (own, covered, their role's as a lead, the team's as director)."""

    serializer_class = ChecklistSerializer
    permission_classes = [IsTeamMember]
    pagination_class = None
    queryset = Checklist.objects.none()  # for the schema; requests go through get_queryset

    def get_queryset(self):
        if self.action == "list":
            query = ChecklistQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            day = query.validated_data.get("date") or local_date(timezone.now())
            return checklist_list(viewer=self.request.member, day=day, member_id=query.validated_data.get("member"))
        return checklist_list(viewer=self.request.member)

    @extend_schema(parameters=[ChecklistQuerySerializer])
    def list(self, request, *args, **kwargs):
        return Response(checklists_data(self.get_queryset()))

    def retrieve(self, request, *args, **kwargs):
        return Response(checklist_data(self.get_object()))


class ChecklistItemViewSet(viewsets.GenericViewSet):
    """Tick and untick; both idempotent. Staff tick their own items, a lead for a member of their role."""

    permission_classes = [IsTeamMember]
    serializer_class = ChecklistItemSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    queryset = ChecklistItem.objects.none()

    def _item(self, pk) -> ChecklistItem:
        return item_access_by_id(viewer=self.request.member, item_id=pk)

    def perform_content_negotiation(self, request, force=False):
        # The photo answers with the picture whatever the client accepts (an app may send Accept: image/jpeg);
        # its errors are JSON, the first renderer.
        return super().perform_content_negotiation(request, force=force or self.action == "photo")

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY, 404: None})
    @action(detail=True, methods=["get"])
    def photo(self, request, pk=None):
        """The item's photo, to whoever may see the item (a token is enough; 404 when it has none)."""
        item = self._item(pk)
        if not item.photo:
            raise exceptions.NotFound(_("This item has no photo."))
        return image_response(item.photo, download_name=f"photo-{item.pk}")

    @extend_schema(request=TickInputSerializer, responses={200: ChecklistItemSerializer})
    @action(detail=True, methods=["post"])
    def tick(self, request, pk=None):
        # An empty body is a plain "done": nothing to validate, so no serializer is built for the commonest tick (issue 8).
        inputs = {}
        if request.data:
            data = TickInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            inputs = data.validated_data
        try:
            # item_id: the access check (404 outside the caller's scope) is part of the tick's statement.
            # No `now`: the time is read once the item is locked, so records follow the order of the changes.
            item, _changed = tick_record(item_id=pk, actor=request.member, ip=client_ip(request), **inputs)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(item_data(item), status=status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: ChecklistItemSerializer})
    @action(detail=True, methods=["post"])
    def untick(self, request, pk=None):
        item = self._item(pk)
        try:
            item, _changed = tick_undo(item=item, actor=request.member, ip=client_ip(request))
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        return Response(item_data(item))


@extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer}, auth=[])
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def token_obtain(request):
    """Exchange a username and password for an API token (send it as `Authorization: Token <token>`)."""
    data = TokenInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
    # The login throttle (roles.login) marks a username+IP, or an address, that is cooling off: say so, not
    # "wrong password".
    if getattr(request, "axes_locked_out", False):
        if getattr(request, "opsteam_address_locked", False):
            detail = _("Too many wrong passwords from this address. Try again in %(minutes)d minutes.")
        else:
            detail = _("Too many wrong passwords for this login from this address. Try again in %(minutes)d minutes.")
        raise exceptions.Throttled(wait=lockout_minutes() * 60, detail=detail % {"minutes": lockout_minutes()})
    if user is None or not user.is_active:
        raise exceptions.ValidationError({"detail": _("Wrong username or password.")})
    # A token login is a login: the signal the page's login sends clears this login's failed attempts
    # (AXES_RESET_ON_SUCCESS; issue 15: 3 wrong, 1 right, 2 wrong was a lock-out) and sets last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    token, _created = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})
