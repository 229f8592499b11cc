// The console works without this script; it only adds live refresh where a page offers it
// (a checkbox with data-live="seconds"), remembered per page in this browser.
(function () {
  var box = document.getElementById("live");
  if (!box) return;
  var key = "liandong.live." + location.pathname;
  if (localStorage.getItem(key) === "on") box.checked = true;
  var seconds = Number(box.getAttribute("data-live")) || 15;
  var timer = null;
  function arm() {
    if (timer) clearTimeout(timer);
    timer = box.checked ? setTimeout(function () { location.reload(); }, seconds * 1000) : null;
  }
  box.addEventListener("change", function () {
    localStorage.setItem(key, box.checked ? "on" : "off");
    arm();
  });
  arm();
})();
