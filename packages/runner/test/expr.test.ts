import { describe, expect, it } from "vitest";
import { evalExpr, exprNames, parseExpr } from "../src/train/expr.js";

const num = {
  num: (v: number) => v,
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  neg: (a: number) => -a,
};
const ev = (s: string, env: Record<string, number>) => evalExpr(parseExpr(s), (k) => env[k], num);

describe("loss arithmetic grammar", () => {
  it("respects precedence, parentheses, unary minus and numbers", () => {
    expect(ev("l1 + cl * l1", { l1: 2, cl: 3 })).toBe(8);
    expect(ev("(l1 + cl) * l1", { l1: 2, cl: 3 })).toBe(10);
    expect(ev("-a - -b / 2", { a: 1, b: 4 })).toBe(1);
    expect(ev("1.5e-1 * a", { a: 10 })).toBeCloseTo(1.5);
    expect(exprNames(parseExpr("a + b * (c - a)"))).toEqual(["a", "b", "c", "a"]);
  });

  it("rejects anything that is not arithmetic, with the column", () => {
    expect(() => parseExpr("a + ")).toThrow(/expected a number, a name or "\(" but found the end/);
    expect(() => parseExpr("process.exit(1)")).toThrow(/unexpected character "\."/);
    expect(() => parseExpr("a; b")).toThrow(/unexpected character ";"/);
    expect(() => parseExpr("(a + b")).toThrow(/expected "\)"/);
  });
});
