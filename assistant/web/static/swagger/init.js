// Start Swagger UI on the workspace's own OpenAPI document (served by the app, no CDN).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui" });
});
