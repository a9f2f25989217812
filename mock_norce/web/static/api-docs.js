// Starts Swagger UI on /api/docs over /openapi.json. A file of its own, not an inline script:
// the Content-Security-Policy allows scripts from this origin only.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    displayOperationId: true,
    // The default would load a validity badge from swagger.io: no outside requests.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
