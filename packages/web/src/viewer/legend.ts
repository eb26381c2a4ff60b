import { ERROR_COLORS } from "./organs.js";
import { el } from "./toolbar.js";

/** The organ legend: colour swatch, name, voxel counts and notes; clicking an organ shows it alone. */
export interface Legend {
  root: HTMLElement;
  setCounts(prediction?: number[], truth?: number[]): void;
  setErrorCounts(missed: number[], extra: number[]): void;
  select(k: number | null): void;
  onSelect?: (k: number) => void;
}

const hex = (c: readonly number[]) => `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

export function buildLegend(
  doc: Document,
  classes: string[],
  color: (i: number) => [number, number, number],
  notes: Record<string, string>,
  errorKey: boolean,
): Legend {
  const root = el(doc, "ul", { class: "vp-legend", "aria-label": "organ legend" });
  const items: HTMLElement[] = [];
  const counts: HTMLElement[] = [];
  classes.forEach((name, k) => {
    if (k === 0) return;
    const sw = el(doc, "span", { class: "vp-sw" });
    sw.style.background = hex(color(k));
    const small = el(doc, "small", {}, notes[String(k)] ?? "");
    const li = el(doc, "li", { "data-class": String(k), title: "show this organ alone (click again for all)" }, sw);
    li.append(el(doc, "span", { class: "vp-name" }, name), small);
    li.addEventListener("click", () => legend.onSelect?.(k));
    items[k] = li;
    counts[k] = small;
    root.append(li);
  });
  if (errorKey) {
    for (const [text, c] of [
      ["missed (false negative)", ERROR_COLORS.missed],
      ["extra (false positive)", ERROR_COLORS.extra],
    ] as const) {
      const sw = el(doc, "span", { class: "vp-sw" });
      sw.style.background = hex(c);
      root.append(el(doc, "li", { class: "vp-key" }, sw, text));
    }
  }
  const legend: Legend = {
    root,
    setCounts(prediction, truth) {
      items.forEach((li, k) => {
        if (!li) return;
        const p = prediction?.[k] ?? 0;
        const t = truth?.[k] ?? 0;
        li.classList.toggle("vp-absent", p === 0 && t === 0);
        li.dataset.voxels = [prediction ? `pred ${p}` : "", truth ? `truth ${t}` : ""].filter(Boolean).join(", ");
        li.title = `${classes[k]}: ${li.dataset.voxels || "no voxels"} — click to show this organ alone`;
      });
    },
    setErrorCounts(missed, extra) {
      items.forEach((li, k) => {
        if (!li) return;
        li.dataset.missed = String(missed[k] ?? 0);
        li.dataset.extra = String(extra[k] ?? 0);
        if (!notes[String(k)] && (missed[k] || extra[k])) counts[k].textContent = `−${missed[k]} / +${extra[k]} vox`;
      });
    },
    select(k) {
      items.forEach((li, i) => {
        li?.classList.toggle("vp-sel", i === k);
      });
    },
  };
  return legend;
}
