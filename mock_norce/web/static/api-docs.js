// Starts Swagger UI on /api/docs over /openapi.json. A file of its own, not an inline script:
// the Content-Security-Policy allows scripts from this origin only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    // Deep links put an <a> inside each operation's <button> (a link in a button: axe's
    // nested-interactive, and a second tab stop that does nothing a keyboard user can see).
    deepLinking: false,
    displayOperationId: true,
    // The default would load a validity badge from swagger.io: no outside requests.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});

// What Swagger UI's markup leaves out for screen readers and keyboards (axe-core's checks),
// added as it renders (watched, not set once: Swagger UI renders later, and again on a click):
// a name for the server picker and for each parameter's enum <select> (both sit in empty
// labels), and a tab stop on the example blocks, which scroll sideways.
function mendSwaggerMarkup() {
  const picker = document.querySelector("select#servers:not([aria-label])");
  if (picker) picker.setAttribute("aria-label", "Server");
  document.querySelectorAll("tr[data-param-name] select:not([aria-label])").forEach((select) => {
    select.setAttribute("aria-label", select.closest("tr").dataset.paramName);
  });
  document.querySelectorAll(".swagger-ui pre:not([tabindex])").forEach((pre) => pre.setAttribute("tabindex", "0"));
}

new MutationObserver(mendSwaggerMarkup).observe(document.documentElement, { childList: true, subtree: true });
