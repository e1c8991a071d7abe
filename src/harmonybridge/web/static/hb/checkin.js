// Bring the crisis text into view as soon as it arrives under the answer that
// triggered it (the region is live before it is filled; this only scrolls).
document.addEventListener("htmx:oobAfterSwap", function (event) {
  var target = event.detail && event.detail.target;
  if (target && target.classList && target.classList.contains("crisis-slot")) {
    target.scrollIntoView({ block: "nearest" });
  }
});
