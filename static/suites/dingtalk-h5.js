// The DingTalk workbench's entry: ask the JSAPI for a 免登 authCode and hand it to OpsTeam's sign-in.
(function () {
  var page = document.getElementById("suite-h5");
  if (!page || !window.dd) { return; }
  window.dd.ready(function () {
    window.dd.runtime.permission.requestAuthCode({
      corpId: page.dataset.corpId,
      onSuccess: function (result) {
        var target = page.dataset.signin + "?state=" + encodeURIComponent(page.dataset.state) + "&code=" + encodeURIComponent(result.code);
        window.location.replace(target);
      },
      onFail: function () { document.getElementById("suite-h5-failed").hidden = false; }
    });
  });
})();
