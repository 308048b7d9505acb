// What a phone-sized screen must not show, as a list of readable problems: the page
// scrolling sideways, a visible box running past the screen's edge (wide tables
// scroll inside their own .table-wrap, so those are left out), or two controls on top
// of each other. Run by the browser tests through page.evaluate.
() => {
  const width = document.documentElement.clientWidth;
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 1
      && box.height > 1 && !el.closest(".visually-hidden, .table-wrap, details:not([open])");
  };
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) {
    const scrolled = document.documentElement.scrollWidth;
    problems.push(`the page scrolls sideways: ${scrolled}px in ${width}px`);
  }
  for (const el of document.querySelectorAll("main *, header *")) {
    if (!visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) {
      problems.push(`cut off: <${el.tagName.toLowerCase()} class="${el.className}"> ${el.textContent.trim().slice(0, 40)}`);
    }
  }
  const controls = [...document.querySelectorAll("main a, main button, main input, main select, main textarea, header a, header button")]
    .filter((el) => visible(el) && el.type !== "hidden");
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i].getBoundingClientRect(), b = controls[j].getBoundingClientRect();
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2
        && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;
      if (overlap && !controls[i].contains(controls[j]) && !controls[j].contains(controls[i])
          && !controls[i].closest("label")?.contains(controls[j])) {
        problems.push(`overlap: "${controls[i].textContent.trim().slice(0, 30) || controls[i].name}" and "${controls[j].textContent.trim().slice(0, 30) || controls[j].name}"`);
      }
    }
  }
  return problems;
}
