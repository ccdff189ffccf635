// The runtime-script prelude (DESIGN §6), evaluated once in every fresh V8 context, after moment.js.
//
// It defines `__sr`, the bridge the engine drives with short evals: init() once, then start() with the
// run's input, then drain() after every step to collect what the script asked of the host, and settle(),
// fail() and fire() to deliver host answers and timers. Everything crossing the boundary is a JSON string.
// The script itself only sees the IFTTT globals (Meta, Trigger, Connection, runAction, performQuery),
// console and setTimeout/clearTimeout. The engine treats everything the context says as untrusted.

const __sr = (() => {
  "use strict";

  const g = globalThis;
  const { parse, stringify } = JSON;
  const PromiseCtor = Promise;
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const objectToString = Object.prototype.toString;
  const LEVELS = { log: 0, info: 1, warn: 2, error: 3 };

  let limits = null;
  let consoleBytes = null;
  let consoleState = null;
  let outbox = [];
  let outcome = null;
  let callCount = 0;
  const pendingCalls = new Map();
  const timers = new Map();
  let timerSeq = 0;

  // Console lines go to a SharedArrayBuffer the engine reads directly, so output written just before a
  // run hangs is kept even though the context is then terminated. Record: level (1 byte), length
  // (4 bytes, little-endian), UTF-8 text. Int32 0 holds the committed length, Int32 1 the dropped lines.
  function initConsole(size) {
    const buffer = new SharedArrayBuffer(8 + size);
    consoleBytes = new Uint8Array(buffer, 8);
    consoleState = { header: new Int32Array(buffer, 0, 2), store: Atomics.store, used: 0, lines: 0 };
    return buffer;
  }

  function utf8Into(text, bytes, start, end) {
    let pos = start;
    for (const ch of text) {
      const c = ch.codePointAt(0);
      const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (pos + size > end) break;
      if (size === 1) {
        bytes[pos] = c;
      } else if (size === 2) {
        bytes[pos] = 0xc0 | (c >> 6);
        bytes[pos + 1] = 0x80 | (c & 0x3f);
      } else if (size === 3) {
        bytes[pos] = 0xe0 | (c >> 12);
        bytes[pos + 1] = 0x80 | ((c >> 6) & 0x3f);
        bytes[pos + 2] = 0x80 | (c & 0x3f);
      } else {
        bytes[pos] = 0xf0 | (c >> 18);
        bytes[pos + 1] = 0x80 | ((c >> 12) & 0x3f);
        bytes[pos + 2] = 0x80 | ((c >> 6) & 0x3f);
        bytes[pos + 3] = 0x80 | (c & 0x3f);
      }
      pos += size;
    }
    return pos;
  }

  function writeConsole(level, text) {
    const s = consoleState;
    const start = s.used + 5;
    if (s.lines >= limits.consoleLines || start >= consoleBytes.length) {
      s.store(s.header, 1, s.header[1] + 1);
      return;
    }
    const end = utf8Into(text, consoleBytes, start, consoleBytes.length);
    const length = end - start;
    consoleBytes[s.used] = level;
    for (let i = 0; i < 4; i++) consoleBytes[s.used + 1 + i] = (length >>> (8 * i)) & 0xff;
    s.used = end;
    s.lines += 1;
    s.store(s.header, 0, end);
  }

  // Stack frames in the script count lines from the compiled function's header; show the script's own.
  function userStack(stack) {
    return String(stack).replace(/script\.js:(\d+):(\d+)/g, (_, line, column) => `script.js:${line - limits.lineOffset}:${column}`);
  }

  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.stack ? userStack(value.stack) : String(value);
    if (typeof value === "function") return `[Function ${value.name || "(anonymous)"}]`;
    if (typeof value !== "object" || value === null) return String(value);
    try {
      const json = stringify(value);
      return json === undefined ? objectToString.call(value) : json;
    } catch (e) {
      return objectToString.call(value);
    }
  }

  function describe(error) {
    try {
      if (error instanceof Error || (typeof error === "object" && error !== null && "stack" in error)) {
        return { name: String(error.name), message: String(error.message), stack: String(error.stack) };
      }
      return { name: "", message: `Uncaught ${show(error)}`, stack: null };
    } catch (e) {
      return { name: "", message: "Uncaught exception that cannot be shown", stack: null };
    }
  }

  function fatal(error) {
    if (outcome === null || outcome.status === "ok") outcome = { status: "error", error: describe(error) };
  }

  function hostCall(kind, name) {
    return function (id, body) {
      if (typeof id !== "string" || id === "") {
        throw new TypeError(`${name}: the first argument must be the ${kind} id, a non-empty string`);
      }
      if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
        throw new TypeError(`${name}: the body must be an object`);
      }
      if (callCount >= limits.maxCalls) throw new Error(`${name}: a run may make at most ${limits.maxCalls} calls`);
      const json = stringify(body === undefined ? {} : body);
      if (json.length > limits.maxBodyBytes) throw new RangeError(`${name}: the body is larger than ${limits.maxBodyBytes} bytes`);
      const callId = ++callCount;
      return new PromiseCtor((resolve, reject) => {
        pendingCalls.set(callId, { resolve, reject });
        outbox.push(["call", callId, kind, id, json]);
      });
    };
  }

  function setTimeout(callback, delay, ...args) {
    if (typeof callback !== "function") throw new TypeError("setTimeout: the callback must be a function");
    if (timers.size >= limits.maxTimers) throw new RangeError(`setTimeout: at most ${limits.maxTimers} pending timers`);
    const id = ++timerSeq;
    timers.set(id, () => callback(...args));
    const ms = Number(delay);
    outbox.push(["timer", id, ms >= 1 && ms <= 2147483647 ? ms : 1]);  // like Node, and never 0 (DESIGN §6)
    return id;
  }

  function clearTimeout(id) {
    if (timers.delete(id)) outbox.push(["clear", id]);
  }

  const console = Object.freeze(Object.fromEntries(
    Object.entries(LEVELS).map(([name, level]) => [name, (...args) => writeConsole(level, args.map(show).join(" "))]),
  ));

  // Remove what is not ECMAScript or whose memory escapes the isolate's heap limit: ArrayBuffer backing
  // stores (typed arrays, WebAssembly memories) live outside the V8 heap that the hard limit measures.
  const REMOVED = ["ArrayBuffer", "SharedArrayBuffer", "Atomics", "DataView", "WebAssembly", "Int8Array",
    "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array",
    "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];

  function init(settingsJson) {
    if (limits !== null) throw new Error("already initialised");
    limits = parse(settingsJson);
    const buffer = initConsole(limits.consoleBytes);
    for (const name of REMOVED) delete g[name];
    Object.assign(g, {
      console, setTimeout, clearTimeout,
      runAction: hostCall("action", "runAction"), performQuery: hostCall("query", "performQuery"),
    });
    return buffer;
  }

  // The script is the body of an async function whose one parameter hides `__sr` from it. A SyntaxError
  // thrown here leaves the eval, and the engine reads its line and column from the message.
  function compile(source) {
    return new AsyncFunction("__sr", `${source}\n//# sourceURL=script.js`);
  }

  function start(runJson) {
    const run = parse(runJson);
    g.Meta = { currentUserTime: __srMoment(run.now, run.zone, run.zoneName) };
    g.Trigger = { id: run.trigger.id, ingredients: run.trigger.ingredients };
    g.Connection = run.connection;
    compile(run.source).call(undefined, undefined).then(
      () => { if (outcome === null) outcome = { status: "ok" }; },
      fatal,
    );
  }

  function drain() {
    const report = stringify({ outcome, out: outbox });
    outbox = [];
    return report;
  }

  function settle(callId, statusCode, responseJson) {
    const call = pendingCalls.get(callId);
    if (call === undefined) return;
    pendingCalls.delete(callId);
    call.resolve({ statusCode, responseBody: parse(responseJson) });
  }

  function fail(callId, message) {
    const call = pendingCalls.get(callId);
    if (call === undefined) return;
    pendingCalls.delete(callId);
    call.reject(new Error(message));
  }

  function fire(id) {
    const callback = timers.get(id);
    if (callback === undefined) return;
    timers.delete(id);
    try {
      callback();
    } catch (e) {
      fatal(e);
    }
  }

  return Object.freeze({ init, compile, start, drain, settle, fail, fire });
})();
