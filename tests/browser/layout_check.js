// Injected into a page opened in headless Chromium: for every <svg> on the page, finds each
// <text> whose box (getBBox, through the element's own transform, so slanted text is a
// slanted box) leaves the SVG's canvas (getBoundingClientRect), and each two texts whose boxes
// overlap. Writes its findings as JSON into <pre id="layout-findings"> for the runner to read.
(function () {
  const TOL = 0.5;  // px a box may cross an edge or another box (rounding)

  function corners(text) {
    const b = text.getBBox(), m = text.getScreenCTM();
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
        .map(([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(m); return [p.x, p.y]; });
  }

  // Separating-axis test of two convex quadrilaterals: overlapping by more than TOL on every
  // axis normal to an edge of either.
  function overlap(a, b) {
    for (const quad of [a, b])
      for (let i = 0; i < 4; i++) {
        const [x1, y1] = quad[i], [x2, y2] = quad[(i + 1) % 4];
        const len = Math.hypot(x2 - x1, y2 - y1);
        if (len === 0) continue;
        const nx = (y1 - y2) / len, ny = (x2 - x1) / len;
        const pa = a.map(([x, y]) => x * nx + y * ny), pb = b.map(([x, y]) => x * nx + y * ny);
        const depth = Math.min(Math.max(...pa), Math.max(...pb)) - Math.max(Math.min(...pa), Math.min(...pb));
        if (depth <= TOL) return false;
      }
    return true;
  }

  function name(svg, k) {
    const holder = svg.closest('[data-name]');
    if (holder) return holder.getAttribute('data-name');
    const caption = svg.closest('figure') && svg.closest('figure').querySelector('figcaption');
    return caption ? caption.textContent.trim() : 'svg #' + k;
  }

  function check() {
    const figures = [];
    document.querySelectorAll('svg').forEach((svg, k) => {
      if (svg.parentElement.closest('svg')) return;
      const canvas = svg.getBoundingClientRect();
      const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '');
      const boxes = texts.map(corners), problems = [];
      boxes.forEach((box, i) => {
        const out = box.some(([x, y]) => x < canvas.left - TOL || x > canvas.right + TOL ||
                                         y < canvas.top - TOL || y > canvas.bottom + TOL);
        if (out) problems.push('leaves the canvas: "' + texts[i].textContent + '"');
        for (let j = 0; j < i; j++)
          if (overlap(box, boxes[j]))
            problems.push('overlap: "' + texts[j].textContent + '" and "' + texts[i].textContent + '"');
      });
      figures.push({name: name(svg, k), texts: texts.length, width: canvas.width, problems: problems});
    });
    const pre = document.createElement('pre');
    pre.id = 'layout-findings';
    pre.style.display = 'none';  // in the DOM for the runner, not in the screenshot
    pre.textContent = JSON.stringify({figures: figures, height: document.documentElement.scrollHeight});
    document.body.appendChild(pre);
  }

  window.addEventListener('load', check);
})();
