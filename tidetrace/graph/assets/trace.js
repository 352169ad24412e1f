/* tidetrace trace pictures: a Sankey (tonnes) and a network view of one trace.
 *
 * Reads the trace JSON from <script type="application/json" id="tidetrace-trace"> and draws
 * into #tidetrace-graph. Needs d3 (7) and d3-sankey (0.12), vendored, loaded before this
 * file. No inline handlers and no inline style attributes, so it runs under the web app's
 * Content-Security-Policy (script-src 'self'; style-src 'self').
 *
 * Sankey: columns are tiers, goods flow left to right (an upstream trace ends at the start,
 * on the right). Widths are tonnes under proportional pass-on (`flow`); links a document
 * asserts carry no tonnage and are drawn thin, dashed and grey. Links that go back to an
 * earlier or the same tier (cycles) cannot be drawn in a Sankey and are counted below it.
 */
(function () {
  "use strict";

  var ROLE_COLOURS = {
    plant: "#b2182b",
    exporter: "#ef8a62",
    forwarder: "#8c8c8c",
    importer: "#4393c3",
    distributor: "#2166ac",
    retailer: "#5e3c99",
    parent: "#8073ac",
    institution: "#1b7837",
    other: "#9aa5b1"
  };
  var ASSERTED = "#9aa5b1";
  var BEFORE = "#c7ccd3";

  function tonnes(kg) {
    if (kg === null || kg === undefined) return "no tonnage";
    var t = kg / 1000;
    if (t >= 100) return Math.round(t).toLocaleString("en") + " t";
    if (t >= 1) return t.toFixed(1) + " t";
    return Math.round(kg).toLocaleString("en") + " kg";
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function prepare(data) {
    var tier = new Map();
    var maxTier = 0;
    // Columns count links from the start (a forwarder gets its own column); tiers do not.
    data.nodes.forEach(function (n) {
      var col = n.column === undefined ? n.tier : n.column;
      tier.set(n.id, col);
      if (col > maxTier) maxTier = col;
    });
    var down = data.direction === "downstream";
    function column(id) {
      return down ? tier.get(id) : maxTier - tier.get(id);
    }
    var byId = new Map(data.nodes.map(function (n) { return [n.id, n]; }));
    return { tier: tier, maxTier: maxTier, column: column, byId: byId };
  }

  function title(n) {
    var lines = [n.name, n.id, "tier " + n.tier + " · " + n.role];
    if (n.kg !== null) lines.push("can have come from the start: ≤ " + tonnes(n.kg));
    if (n.kg_before_flag !== null) lines.push("before the flag date: ≤ " + tonnes(n.kg_before_flag));
    if (n.confidence !== null) lines.push("best path confidence " + n.confidence);
    n.flags.forEach(function (f) { lines.push("⚑ " + f.kind + ": " + f.reason); });
    return lines.join("\n");
  }

  function drawSankey(host, data, prep) {
    var observedMax = 0;
    data.edges.forEach(function (e) {
      if (e.basis === "observed") observedMax = Math.max(observedMax, e.flow || 0, e.flow_before || 0);
    });
    var nominal = observedMax > 0 ? observedMax * 0.04 : 1;
    var links = [];
    var skipped = 0;
    data.edges.forEach(function (e) {
      if (!prep.byId.has(e.from) || !prep.byId.has(e.to)) return;
      if (prep.column(e.from) >= prep.column(e.to)) { skipped += 1; return; }
      if (e.basis === "observed") {
        if (!e.flow && !e.flow_before) { skipped += 1; return; }
        if (e.flow) links.push({ source: e.from, target: e.to, value: e.flow, edge: e, before: false });
        // Before the start's flag date: a link of its own, drawn grey, never mixed in.
        if (e.flow_before) links.push({ source: e.from, target: e.to, value: e.flow_before, edge: e, before: true });
      } else {
        links.push({ source: e.from, target: e.to, value: nominal, edge: e });
      }
    });
    var used = new Set([data.start]);
    links.forEach(function (l) { used.add(l.source); used.add(l.target); });
    var nodes = data.nodes.filter(function (n) { return used.has(n.id); })
      .map(function (n) { return { id: n.id, node: n }; });
    var width = Math.max(640, host.clientWidth || 960);
    var height = Math.max(320, Math.min(1400, 60 + nodes.length * 26));
    var svg = d3.select(host).append("svg")
      .attr("class", "tt-sankey")
      .attr("viewBox", "0 0 " + width + " " + height)
      .attr("width", width)
      .attr("height", height)
      .attr("role", "img")
      .attr("aria-label", "Sankey diagram of the " + data.direction + " trace, widths in tonnes");
    if (!links.length) {
      svg.append("text").attr("x", 20).attr("y", 40).attr("class", "tt-empty")
        .text("No links to draw in this window.");
      return { skipped: skipped, links: 0 };
    }
    var sankey = d3.sankey()
      .nodeId(function (d) { return d.id; })
      .nodeAlign(function (d) { return prep.column(d.id); })
      .nodeWidth(14)
      .nodePadding(12)
      .extent([[8, 8], [width - 8, height - 8]]);
    var graph = sankey({ nodes: nodes, links: links });
    var link = svg.append("g").attr("class", "tt-links").selectAll("path")
      .data(graph.links).join("path")
      .attr("d", d3.sankeyLinkHorizontal())
      .attr("class", function (d) { return "tt-link tt-" + d.edge.basis + (d.before ? " tt-before" : ""); })
      .attr("stroke", function (d) {
        if (d.edge.basis !== "observed") return ASSERTED;
        if (d.before) return BEFORE;
        return ROLE_COLOURS[prep.byId.get(d.edge.from).role] || ROLE_COLOURS.other;
      })
      // Documents carry no tonnage: their links stay thin whatever room the layout gives them.
      .attr("stroke-width", function (d) { return d.edge.basis === "observed" ? Math.max(1, d.width) : 2; });
    link.append("title").text(function (d) {
      var e = d.edge;
      var from = prep.byId.get(e.from).name;
      var to = prep.byId.get(e.to).name;
      if (e.basis === "observed") {
        return from + " → " + to + "\n" + e.relation + ": " + e.shipments + " bills, " +
          tonnes(e.kg) + " in the window (" + e.first + " – " + e.last + ")\n" +
          "drawn: " + tonnes(d.value) + " from the start under pro-rata pass-on" +
          (d.before ? ", from its shipments before the flag date" : "");
      }
      return from + " → " + to + "\nasserted (" + e.relation + "), confidence " +
        e.confidence + ", no tonnage\n" + (e.link || "");
    });
    var node = svg.append("g").attr("class", "tt-nodes").selectAll("g")
      .data(graph.nodes).join("g")
      .attr("class", function (d) { return "tt-node" + (d.node.flags.length ? " tt-flagged" : ""); });
    node.append("rect")
      .attr("x", function (d) { return d.x0; })
      .attr("y", function (d) { return d.y0; })
      .attr("height", function (d) { return Math.max(2, d.y1 - d.y0); })
      .attr("width", function (d) { return d.x1 - d.x0; })
      .attr("fill", function (d) { return ROLE_COLOURS[d.node.role] || ROLE_COLOURS.other; });
    node.append("title").text(function (d) { return title(d.node); });
    node.append("text")
      .attr("x", function (d) { return d.x0 < width / 2 ? d.x1 + 6 : d.x0 - 6; })
      .attr("y", function (d) { return (d.y1 + d.y0) / 2; })
      .attr("dy", "0.35em")
      .attr("text-anchor", function (d) { return d.x0 < width / 2 ? "start" : "end"; })
      .text(function (d) {
        var n = d.node;
        var label = (n.flags.length ? "⚑ " : "") + n.name;
        if (n.id !== data.start && n.kg !== null) label += " · ≤ " + tonnes(n.kg);
        return label;
      });
    return { skipped: skipped, links: links.length };
  }

  function drawNetwork(host, data, prep) {
    var width = Math.max(640, host.clientWidth || 960);
    var tallest = 1;
    var counts = new Map();
    data.nodes.forEach(function (n) {
      var c = prep.column(n.id);
      counts.set(c, (counts.get(c) || 0) + 1);
      tallest = Math.max(tallest, counts.get(c));
    });
    var height = Math.max(360, Math.min(2400, 80 + tallest * 44));
    var nodes = data.nodes.map(function (n) { return { id: n.id, node: n }; });
    var links = data.edges.map(function (e) { return { source: e.from, target: e.to, edge: e }; });
    var columns = prep.maxTier + 1;
    var step = (width - 160) / Math.max(1, columns - 1);
    var maxKg = 1;
    data.nodes.forEach(function (n) { if (n.kg) maxKg = Math.max(maxKg, n.kg); });
    function radius(n) {
      if (n.id === data.start) return 11;
      return n.kg ? 5 + 9 * Math.sqrt(n.kg / maxKg) : 5;
    }
    // Layered: x is the tier column, y starts evenly spread per column (largest first), then
    // links pull neighbours level and collisions keep labels apart.
    var perColumn = new Map();
    nodes.forEach(function (d) {
      var c = prep.column(d.id);
      if (!perColumn.has(c)) perColumn.set(c, []);
      perColumn.get(c).push(d);
    });
    perColumn.forEach(function (list, c) {
      list.sort(function (a, b) { return (b.node.kg || 0) - (a.node.kg || 0) || a.node.name.localeCompare(b.node.name); });
      list.forEach(function (d, i) {
        d.fx = 80 + c * step;
        d.y0 = (i + 1) * height / (list.length + 1);
        d.y = d.y0;
      });
    });
    var sim = d3.forceSimulation(nodes)
      .force("link", d3.forceLink(links).id(function (d) { return d.id; }).strength(0.05))
      .force("y", d3.forceY(function (d) { return d.y0; }).strength(0.3))
      .force("collide", d3.forceCollide(function (d) { return radius(d.node) + 12; }))
      .stop();
    // A fixed number of ticks, no animation: the picture is the same on every load.
    for (var i = 0; i < 300; i += 1) sim.tick();
    nodes.forEach(function (d) {
      d.x = d.fx;
      d.x = Math.max(20, Math.min(width - 20, d.x));
      d.y = Math.max(20, Math.min(height - 20, d.y));
    });
    var svg = d3.select(host).append("svg")
      .attr("class", "tt-network")
      .attr("viewBox", "0 0 " + width + " " + height)
      .attr("width", width)
      .attr("height", height)
      .attr("role", "img")
      .attr("aria-label", "Network view of the " + data.direction + " trace");
    var defs = svg.append("defs");
    ["observed", "asserted"].forEach(function (basis) {
      defs.append("marker").attr("id", "tt-arrow-" + basis)
        .attr("viewBox", "0 -4 8 8").attr("refX", 8).attr("refY", 0)
        .attr("markerWidth", 7).attr("markerHeight", 7).attr("orient", "auto")
        .append("path").attr("d", "M0,-4L8,0L0,4")
        .attr("fill", basis === "observed" ? "#37474f" : ASSERTED);
    });
    var line = svg.append("g").attr("class", "tt-links").selectAll("line")
      .data(links).join("line")
      .attr("class", function (d) { return "tt-edge tt-" + d.edge.basis; })
      .attr("x1", function (d) { return d.source.x; })
      .attr("y1", function (d) { return d.source.y; })
      .attr("x2", function (d) {
        var dx = d.target.x - d.source.x, dy = d.target.y - d.source.y;
        var len = Math.sqrt(dx * dx + dy * dy) || 1;
        return d.target.x - dx / len * (radius(d.target.node) + 2);
      })
      .attr("y2", function (d) {
        var dx = d.target.x - d.source.x, dy = d.target.y - d.source.y;
        var len = Math.sqrt(dx * dx + dy * dy) || 1;
        return d.target.y - dy / len * (radius(d.target.node) + 2);
      })
      .attr("marker-end", function (d) { return "url(#tt-arrow-" + d.edge.basis + ")"; });
    line.append("title").text(function (d) {
      var e = d.edge;
      return e.basis === "observed"
        ? e.relation + ": " + e.shipments + " bills, " + tonnes(e.kg)
        : "asserted: " + e.relation + " (confidence " + e.confidence + ")";
    });
    var node = svg.append("g").attr("class", "tt-nodes").selectAll("g")
      .data(nodes).join("g")
      .attr("class", function (d) {
        return "tt-node" + (d.node.flags.length ? " tt-flagged" : "") +
          (d.id === data.start ? " tt-start" : "");
      })
      .attr("transform", function (d) { return "translate(" + d.x + "," + d.y + ")"; });
    node.append("circle")
      .attr("r", function (d) { return radius(d.node); })
      .attr("fill", function (d) { return ROLE_COLOURS[d.node.role] || ROLE_COLOURS.other; });
    node.append("title").text(function (d) { return title(d.node); });
    node.append("text").attr("x", 0).attr("y", function (d) { return -radius(d.node) - 4; })
      .attr("text-anchor", "middle")
      .text(function (d) { return (d.node.flags.length ? "⚑ " : "") + d.node.name; });
  }

  function legend(host, data) {
    var roles = new Set(data.nodes.map(function (n) { return n.role; }));
    var list = document.createElement("ul");
    list.className = "tt-legend";
    Object.keys(ROLE_COLOURS).forEach(function (role) {
      if (!roles.has(role)) return;
      var item = document.createElement("li");
      var swatch = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      swatch.setAttribute("width", "12");
      swatch.setAttribute("height", "12");
      var rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
      rect.setAttribute("width", "12");
      rect.setAttribute("height", "12");
      rect.setAttribute("fill", ROLE_COLOURS[role]);
      swatch.appendChild(rect);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + role));
      list.appendChild(item);
    });
    var asserted = document.createElement("li");
    asserted.className = "tt-legend-asserted";
    asserted.textContent = "- - asserted link (document, no tonnage)";
    list.appendChild(asserted);
    if (data.flag_since) {
      var before = document.createElement("li");
      before.className = "tt-legend-before";
      before.textContent = "grey: shipments before the flag date (" + data.flag_since + ")";
      list.appendChild(before);
    }
    var flagged = document.createElement("li");
    flagged.textContent = "⚑ flagged";
    list.appendChild(flagged);
    host.appendChild(list);
  }

  function render() {
    var source = document.getElementById("tidetrace-trace");
    var root = document.getElementById("tidetrace-graph");
    if (!source || !root || typeof d3 === "undefined" || !d3.sankey) return;
    var data = JSON.parse(source.textContent);
    var prep = prepare(data);
    clear(root);
    var bar = document.createElement("div");
    bar.className = "tt-views";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Picture");
    var sankeyHost = document.createElement("div");
    sankeyHost.className = "tt-view";
    sankeyHost.id = "tt-sankey";
    var networkHost = document.createElement("div");
    networkHost.className = "tt-view";
    networkHost.id = "tt-network";
    networkHost.hidden = true;
    var buttons = [];
    [["Sankey", sankeyHost], ["Network", networkHost]].forEach(function (pair, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = pair[0];
      button.className = "tt-view-button";
      button.setAttribute("aria-pressed", index === 0 ? "true" : "false");
      button.setAttribute("aria-controls", pair[1].id);
      button.addEventListener("click", function () {
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
        button.setAttribute("aria-pressed", "true");
        sankeyHost.hidden = pair[1] !== sankeyHost;
        networkHost.hidden = pair[1] !== networkHost;
        if (pair[1] === networkHost && !networkHost.firstChild) drawNetwork(networkHost, data, prep);
      });
      buttons.push(button);
      bar.appendChild(button);
    });
    root.appendChild(bar);
    legend(root, data);
    root.appendChild(sankeyHost);
    root.appendChild(networkHost);
    var drawn = drawSankey(sankeyHost, data, prep);
    var note = document.createElement("p");
    note.className = "tt-note";
    note.textContent = drawn.links + " links drawn" +
      (drawn.skipped ? "; " + drawn.skipped + " not drawn (back to an earlier tier, or no tonnage in the window)" : "") +
      ". Widths: tonnes that can have passed on pro rata from the start; labels: the upper bound.";
    root.appendChild(note);
    root.setAttribute("data-rendered", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
