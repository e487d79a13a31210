// The view side of the MCP Apps bridge, shared by every solvapay view (the resource reader puts
// it in each page): plain JSON-RPC over postMessage to the host (window.parent) — ui/initialize,
// requests through the host (tools/call), the tool's result (ui/notifications/tool-result), the
// view's height, and answers to ping and teardown.
const bridge = (() => {
  const pending = new Map();
  let nextId = 1;
  let onResult = () => {};

  function send(message) { window.parent.postMessage(message, "*"); }
  function request(method, params) {
    const id = nextId++;
    send({ jsonrpc: "2.0", id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function notify(method, params) { send({ jsonrpc: "2.0", method, params: params || {} }); }
  function resized() {
    notify("ui/notifications/size-changed", { height: document.documentElement.scrollHeight });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.id !== undefined && !message.method) {
      const waiting = pending.get(message.id);
      if (!waiting) return;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error.message || "request failed"));
      else waiting.resolve(message.result);
      return;
    }
    switch (message.method) {
      case "ui/notifications/tool-result":
        onResult(message.params);
        break;
      case "ui/resource-teardown":
      case "ping":
        send({ jsonrpc: "2.0", id: message.id, result: {} });
        break;
      default:
        if (message.id !== undefined) {
          send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
        }
    }
  });

  // Connects as `name`; `show` gets each tool result the host hands over.
  function start(name, show) {
    onResult = show;
    return request("ui/initialize", {
      appInfo: { name, version: "1" },
      appCapabilities: {},
      protocolVersion: "2026-01-26",
    }).then(() => {
      notify("ui/notifications/initialized");
      resized();
    });
  }

  return { request, resized, start };
})();
