// The lab's additions to sphinx-book-theme's behaviour.
//
// The phone menu. pydata-sphinx-theme 0.17 wires up only the first `.primary-toggle` and
// `.secondary-toggle` on a page: its own navbar buttons, which sphinx-book-theme hides. The
// buttons a reader sees (in the article header) get no handler, so on a narrow screen the menu
// and "on this page" buttons do nothing (pydata/pydata-sphinx-theme#2451). Pass their clicks on
// to the wired-up button, whose handlers open the sidebar as a dialog on a phone and collapse it
// on a wide screen, as the themes intend.
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [wired, ...unwired] = document.querySelectorAll(`.${kind}-toggle`);
    for (const button of unwired) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    }
  }
});
