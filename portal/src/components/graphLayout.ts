/**
 * Positions for `n` nodes on an ellipse around the origin, evenly spaced by how much room a node
 * needs (wide boxes need more room side by side than one above the other), starting at the top and
 * going clockwise. The ellipse grows until every node fits.
 */
export function ringPositions(n: number, nodeWidth: number, nodeHeight: number): { x: number; y: number }[] {
  if (n === 0) return [];
  const gapX = nodeWidth + 40;
  const gapY = nodeHeight + 36;
  const steps = 720;
  let rx = 340;
  let ry = 200;
  for (let attempt = 0; attempt < 40; attempt++) {
    const pts: { x: number; y: number; at: number }[] = [];
    let length = 0;
    for (let i = 0; i <= steps; i++) {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / steps;
      const p = { x: rx * Math.cos(a), y: ry * Math.sin(a) };
      const prev = pts[pts.length - 1];
      if (prev) length += Math.hypot((p.x - prev.x) / gapX, (p.y - prev.y) / gapY);
      pts.push({ ...p, at: length });
    }
    if (length >= n * 1.1 || attempt === 39) {
      const out: { x: number; y: number }[] = [];
      let j = 0;
      for (let k = 0; k < n; k++) {
        const target = (length * k) / n;
        while (j < pts.length - 1 && pts[j]!.at < target) j++;
        out.push({ x: pts[j]!.x, y: pts[j]!.y });
      }
      return out;
    }
    rx *= 1.08;
    ry *= 1.08;
  }
  return [];
}
