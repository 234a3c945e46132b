// Small behaviours that used to be inline handlers: the Content Security Policy allows no inline script.
// <select data-autosubmit> submits its form when changed; <button data-print> opens the print dialog.
document.addEventListener("change", function (event) {
  var field = event.target.closest && event.target.closest("[data-autosubmit]");
  if (field && field.form) field.form.submit();
});
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) window.print();
});
