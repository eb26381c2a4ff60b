/**
 * The tiny arithmetic grammar for combining named losses in a step graph (`l1 + cl * l1`).
 * Parsed into a tree and evaluated with tensor ops; never evaluated as JavaScript.
 *
 *   expr   := term (("+" | "-") term)*
 *   term   := factor (("*" | "/") factor)*
 *   factor := number | name | "(" expr ")" | "-" factor
 */
export type Expr =
  | { op: "num"; value: number }
  | { op: "ref"; name: string }
  | { op: "neg"; arg: Expr }
  | { op: "+" | "-" | "*" | "/"; left: Expr; right: Expr };

export class ExprSyntaxError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

type Token = { kind: "num" | "name" | "op" | "end"; text: string; col: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: "num", text: num[0], col: i + 1 });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: "name", text: name[0], col: i + 1 });
      i += name[0].length;
      continue;
    }
    if ("+-*/()".includes(c)) {
      out.push({ kind: "op", text: c, col: i + 1 });
      i++;
      continue;
    }
    throw new ExprSyntaxError(`unexpected character "${c}"`, i + 1);
  }
  out.push({ kind: "end", text: "", col: src.length + 1 });
  return out;
}

export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const expect = (text: string) => {
    const t = toks[p];
    if (t.text !== text)
      throw new ExprSyntaxError(`expected "${text}" but found ${t.kind === "end" ? "the end" : `"${t.text}"`}`, t.col);
    p++;
  };
  const factor = (): Expr => {
    const t = peek();
    if (t.kind === "num") {
      p++;
      return { op: "num", value: Number(t.text) };
    }
    if (t.kind === "name") {
      p++;
      return { op: "ref", name: t.text };
    }
    if (t.text === "(") {
      p++;
      const e = expr();
      expect(")");
      return e;
    }
    if (t.text === "-") {
      p++;
      return { op: "neg", arg: factor() };
    }
    throw new ExprSyntaxError(
      `expected a number, a name or "(" but found ${t.kind === "end" ? "the end" : `"${t.text}"`}`,
      t.col,
    );
  };
  const term = (): Expr => {
    let left = factor();
    while (peek().text === "*" || peek().text === "/") {
      const op = toks[p++].text as "*" | "/";
      left = { op, left, right: factor() };
    }
    return left;
  };
  const expr = (): Expr => {
    let left = term();
    while (peek().text === "+" || peek().text === "-") {
      const op = toks[p++].text as "+" | "-";
      left = { op, left, right: term() };
    }
    return left;
  };
  const e = expr();
  if (peek().kind !== "end") throw new ExprSyntaxError(`unexpected "${peek().text}"`, peek().col);
  return e;
}

export function exprNames(e: Expr, out: string[] = []): string[] {
  if (e.op === "ref") out.push(e.name);
  else if (e.op === "neg") exprNames(e.arg, out);
  else if (e.op !== "num") {
    exprNames(e.left, out);
    exprNames(e.right, out);
  }
  return out;
}

/** Evaluate with caller-supplied arithmetic (tensor ops in training, numbers in tests). */
export function evalExpr<T>(
  e: Expr,
  env: (name: string) => T,
  ops: {
    num(v: number): T;
    add(a: T, b: T): T;
    sub(a: T, b: T): T;
    mul(a: T, b: T): T;
    div(a: T, b: T): T;
    neg(a: T): T;
  },
): T {
  switch (e.op) {
    case "num":
      return ops.num(e.value);
    case "ref":
      return env(e.name);
    case "neg":
      return ops.neg(evalExpr(e.arg, env, ops));
    case "+":
      return ops.add(evalExpr(e.left, env, ops), evalExpr(e.right, env, ops));
    case "-":
      return ops.sub(evalExpr(e.left, env, ops), evalExpr(e.right, env, ops));
    case "*":
      return ops.mul(evalExpr(e.left, env, ops), evalExpr(e.right, env, ops));
    case "/":
      return ops.div(evalExpr(e.left, env, ops), evalExpr(e.right, env, ops));
  }
}
