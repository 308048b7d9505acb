// Marks the page as scripted so controls needed only without JavaScript can hide.
document.documentElement.classList.add("js");

// After htmx swaps a region in place, tell screen readers what happened and put the
// keyboard focus somewhere sensible: a region's own message lands in the page's
// polite live region ("Saved."), and focus goes to the first field with an error or,
// if the focused control was replaced, where the region says or to its heading.
document.addEventListener("htmx:afterSettle", (event) => {
  const id = event.detail.target && event.detail.target.id;
  const region = id ? document.getElementById(id) : null;
  if (!region) {
    return;
  }
  // Its messages, or else what the region marks to be read out (a stepper's "Statement 2 of 6").
  const said = Array.from(region.querySelectorAll(".messages .message p, [data-announce]"))
    .map((message) => message.textContent.trim())
    .join(" ");
  // One banner at a time: the region's new message replaces those shown before it.
  if (region.querySelector(".messages .message")) {
    document.querySelectorAll(".messages .message").forEach((message) => {
      if (!region.contains(message)) {
        message.remove();
      }
    });
  }
  const announcer = document.getElementById("announcer");
  if (announcer && said) {
    announcer.textContent = "";
    // A change of text, a moment later, is what screen readers announce.
    window.setTimeout(() => { announcer.textContent = said; }, 50);
  }
  const invalid = region.querySelector("[aria-invalid='true']");
  if (invalid) {
    invalid.focus();
    return;
  }
  const focused = document.activeElement;
  if (focused && focused !== document.body && document.contains(focused)) {
    return;
  }
  // A region may name where focus goes next (data-focus, a selector), else its heading.
  const next = region.dataset.focus ? region.querySelector(region.dataset.focus) : null;
  const heading = region.querySelector("h2, h3");
  if (next) {
    next.focus();
  } else if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
});

// "Dismiss" on a message: without JavaScript a link back to the page (which no longer
// has the message); with it, the message just goes, and focus stays nearby.
document.addEventListener("click", (event) => {
  const dismiss = event.target.closest && event.target.closest(".message-dismiss");
  if (!dismiss) {
    return;
  }
  event.preventDefault();
  const main = document.getElementById("main");
  dismiss.closest(".message").remove();
  if (main) {
    main.focus();
  }
});
