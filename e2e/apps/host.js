// The host side of the MCP Apps bridge, with @modelcontextprotocol/ext-apps's AppBridge: renders a
// ui:// resource in a sandboxed iframe, hands it the tool's input and result, and forwards the
// view's tools/call to the MCP server (window.hostCallTool, exposed by review.mjs: the Node MCP
// client talking to the real binary). Bundled by esbuild at test time.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

window.mountView = async ({ html, toolInput, toolResult }) => {
  const iframe = document.createElement("iframe");
  // No same-origin: the view gets an opaque origin, as hosts render Apps.
  iframe.setAttribute("sandbox", "allow-scripts");
  document.getElementById("views").append(iframe);
  const bridge = new AppBridge(
    null,
    { name: "solvapay-e2e-host", version: "1.0.0" },
    { serverTools: {} },
  );
  bridge.oncalltool = (params) => window.hostCallTool(params);
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${Math.min(height + 4, 600)}px`;
  };
  const initialized = new Promise((resolve) => {
    bridge.oninitialized = resolve;
  });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.srcdoc = html;
  await initialized;
  await bridge.sendToolInput({ arguments: toolInput });
  await bridge.sendToolResult(toolResult);
  return document.querySelectorAll("iframe").length - 1;
};
window.hostReady = true;
