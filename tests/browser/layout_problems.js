// What a screen of any width must not show, as a list of readable problems: the page
// scrolling sideways, a visible box running past the screen's edge or out of its card
// (wide tables scroll inside their own .table-wrap, so those are left out), two
// controls or two chart labels on top of each other, or a control that something else
// covers (a click at its centre must reach it). Run by the browser tests through
// page.evaluate, at a phone's width and at three desktop widths.
() => {
  const width = document.documentElement.clientWidth;
  const visible = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.visibility !== "hidden" && style.display !== "none" && box.width > 1
      && box.height > 1 && !el.closest(".visually-hidden, .table-wrap, details:not([open])");
  };
  const describe = (el) => {
    const text = el.textContent.trim().replace(/\s+/g, " ").slice(0, 40);
    return `<${el.tagName.toLowerCase()} class="${el.getAttribute("class") || ""}"> ${text || el.name || ""}`;
  };
  const overlaps = (a, b, by = 2) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > by
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > by;
  const problems = [];
  if (document.documentElement.scrollWidth > width + 1) {
    const scrolled = document.documentElement.scrollWidth;
    problems.push(`the page scrolls sideways: ${scrolled}px in ${width}px`);
  }
  // On a phone a wide table may scroll inside its .table-wrap; on a desktop it must fit,
  // or what sits at its end (a "Withdraw" button) is out of sight.
  if (width >= 1000) {
    for (const wrap of document.querySelectorAll("main .table-wrap")) {
      if (wrap.closest("details:not([open])")) continue;
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        problems.push(`a table scrolls sideways in its box: ${wrap.scrollWidth}px in ${wrap.clientWidth}px (${wrap.getAttribute("aria-label") || wrap.getAttribute("aria-labelledby") || ""})`);
      }
    }
  }
  const reported = new Set();  // the outermost box that breaks out, not all it holds
  for (const el of document.querySelectorAll("main *, header *")) {
    if (!visible(el) || reported.has(el.parentElement)) {
      if (reported.has(el.parentElement)) reported.add(el);
      continue;
    }
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) {
      problems.push(`cut off: ${describe(el)}`);
      reported.add(el);
      continue;
    }
    // A box wider than its card spills over whatever sits beside the card.
    const card = el.parentElement && el.parentElement.closest(".card");
    if (card) {
      const edge = card.getBoundingClientRect();
      if (box.right > edge.right + 1 || box.left < edge.left - 1) {
        problems.push(`out of its card: ${describe(el)}`);
        reported.add(el);
      }
    }
  }
  // Chart labels: each one readable on its own.
  for (const svg of document.querySelectorAll("main svg")) {
    const labels = [...svg.querySelectorAll("text")].filter(visible);
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        if (overlaps(labels[i].getBoundingClientRect(), labels[j].getBoundingClientRect(), 0)) {
          problems.push(`chart labels overlap: "${labels[i].textContent}" and "${labels[j].textContent}"`);
        }
      }
    }
  }
  const controls = [...document.querySelectorAll(
    "main a, main button, main input, main select, main textarea, main summary, header a, header button, header summary"
  )].filter((el) => visible(el) && el.type !== "hidden");
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i].getBoundingClientRect(), b = controls[j].getBoundingClientRect();
      if (overlaps(a, b) && !controls[i].contains(controls[j]) && !controls[j].contains(controls[i])
          && !controls[i].closest("label")?.contains(controls[j])) {
        problems.push(`overlap: "${controls[i].textContent.trim().slice(0, 30) || controls[i].name}" and "${controls[j].textContent.trim().slice(0, 30) || controls[j].name}"`);
      }
    }
  }
  // A click at each control's centre must reach the control (or its own label): scroll
  // it into view, ask what is on top there, then put the scroll back. A link that wraps
  // onto two lines has a box per line: the centre of any of them will do.
  const { scrollX, scrollY } = window;
  const height = document.documentElement.clientHeight;
  const labelsOf = (el) => (el.labels ? [...el.labels] : []);
  for (const el of controls) {
    const first = el.getBoundingClientRect();
    const middle = first.top + first.height / 2;
    if (middle < 0 || middle > height) {
      window.scrollTo(scrollX, window.scrollY + middle - height / 2);
    }
    let hit = null;
    const reached = [...el.getClientRects()].some((box) => {
      hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return hit && (el === hit || el.contains(hit) || labelsOf(el).some((l) => l.contains(hit)));
    });
    if (!reached) {
      const cover = hit ? describe(hit) : "nothing (off the page)";
      problems.push(`not clickable at its centre: ${describe(el)} (covered by ${cover})`);
    }
  }
  window.scrollTo(scrollX, scrollY);
  return problems;
}
