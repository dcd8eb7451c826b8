// Progressive enhancement: the pages work without this file.
// 1. Ask before refusing or withdrawing a request.
// 2. Keep an open case page current: reload it every 15 s while nothing is being typed.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.action[data-action=refuse], form.action[data-action=withdraw]")) {
    form.addEventListener("submit", (e) => {
      const label = form.querySelector("button")?.textContent ?? "";
      if (!window.confirm(label + "?")) e.preventDefault();
    });
  }
  if (document.getElementById("case-state")) {
    setInterval(() => {
      const typing = [...document.querySelectorAll("textarea, input[type=number], select")]
        .some((el) => el === document.activeElement || (el.value && el.value !== ""));
      if (!typing && document.visibilityState === "visible") window.location.reload();
    }, 15000);
  }
});
