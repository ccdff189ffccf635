// The runtime-script prelude (DESIGN §6), evaluated once in every fresh V8 context, after moment.js.
//
// It defines `__sr`, the bridge the engine drives with short evals: init() once, then, for each run,
// start() with the run's input, drain() after every step to collect what the script asked of the host,
// and settle(), fail() and fire() to deliver host answers and timers. Everything crossing the boundary
// is a JSON string. The engine evaluates this file inside a function and binds the bridge to a global
// name drawn at random per context, so a script cannot name it (not even through `Function` or an
// indirect eval). The script itself only sees the IFTTT globals (Meta, Trigger, Connection, runAction,
// performQuery), console and setTimeout/clearTimeout. The engine treats everything the context says as
// untrusted.
//
// A context may serve several runs, one after another, so init() hardens it once and every run that
// ends cleanly is scrubbed before the next may start:
// - every built-in object a script can reach (from globalThis, and the ones only syntax reaches, like
//   the prototype of async functions or of array iterators) is frozen, so no run can change one for
//   the next; the few inherited names that ordinary code assigns on its own objects (`this.name = ...`
//   in an Error subclass, `obj.toString = ...`) are turned into accessors that define the property on
//   the object assigned to, so such code still works (what SES calls taming the override mistake);
// - RegExp's legacy statics (RegExp.$1, lastMatch, input, ...), which would show the previous run's
//   matched text, are removed, and Math.random is a generator reseeded by the host for every run;
// - the global object's own properties (the built-ins, console, setTimeout, runAction, ...) are frozen
//   too, but the object stays extensible, as in a fresh context: a script may create globals (`x = 1`,
//   `globalThis.y = 2`, `var` in an indirect eval), and scrub() deletes whatever a run added. Something
//   that cannot be undone (a global made non-configurable, the global object made non-extensible or given
//   another prototype), or a FinalizationRegistry registration (its callback could run during a later
//   run), makes the context unusable: the engine closes it instead.
// - the bridge's own state (console buffer, call and timer counters, pending calls, timers) is reset by
//   start().

const __sr = (() => {
  "use strict";

  const g = globalThis;
  // The built-ins the bridge uses, taken now: a script may replace the globals, never these.
  const { Array, Error, FinalizationRegistry, Iterator, JSON, Map, Math, Object, Promise, RangeError, Reflect, RegExp,
    Set, SharedArrayBuffer, String, Symbol, TypeError } = g;
  const { parse, stringify } = JSON;
  const { apply, defineProperty, deleteProperty, getOwnPropertyDescriptor, getPrototypeOf, isExtensible, ownKeys,
    setPrototypeOf } = Reflect;
  const { freeze, hasOwn } = Object;
  const AsyncFunction = getPrototypeOf(async function () {}).constructor;
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
  // "new" until init(); "ready" when a run may start; "running" from start() until the run is scrubbed;
  // "spent" when a run left something scrub() cannot undo.
  let state = "new";
  let tainted = false;

  // Console lines go to a SharedArrayBuffer the engine reads directly, so output written just before a
  // run hangs is kept even though the context is then terminated. Record: level (1 byte), length
  // (4 bytes, little-endian), UTF-8 text. Int32 0 holds the committed length, Int32 1 the dropped lines.
  function initConsole(size) {
    const buffer = new SharedArrayBuffer(8 + size);
    consoleBytes = new g.Uint8Array(buffer, 8);
    consoleState = { header: new g.Int32Array(buffer, 0, 2), store: g.Atomics.store, used: 0, lines: 0 };
    return buffer;
  }

  function resetConsole() {
    const s = consoleState;
    consoleBytes.fill(0, 0, s.used);
    s.used = 0;
    s.lines = 0;
    s.store(s.header, 1, 0);
    s.store(s.header, 0, 0);
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
      return json === undefined ? apply(objectToString, value, []) : json;
    } catch (e) {
      return apply(objectToString, value, []);
    }
  }

  // A thrown error's texts are the script's to make as long as its heap allows: cut before they are reported.
  function clip(text) {
    const s = String(text);
    return s.length > limits.maxErrorChars ? `${s.slice(0, limits.maxErrorChars)}…[truncated]` : s;
  }

  function describe(error) {
    try {
      if (error instanceof Error || (typeof error === "object" && error !== null && "stack" in error)) {
        return { name: clip(error.name), message: clip(error.message), stack: clip(error.stack) };
      }
      return { name: "", message: clip(`Uncaught ${show(error)}`), stack: null };
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
      if (id.length > limits.maxIdChars) throw new RangeError(`${name}: the ${kind} id is longer than ${limits.maxIdChars} characters`);
      if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
        throw new TypeError(`${name}: the body must be an object`);
      }
      if (callCount >= limits.maxCalls) throw new Error(`${name}: a run may make at most ${limits.maxCalls} calls`);
      const json = stringify(body === undefined ? {} : body);
      if (json.length > limits.maxBodyBytes) throw new RangeError(`${name}: the body is larger than ${limits.maxBodyBytes} bytes`);
      const callId = ++callCount;
      return new Promise((resolve, reject) => {
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

  const console = Object.fromEntries(
    Object.entries(LEVELS).map(([name, level]) => [name, (...args) => writeConsole(level, args.map(show).join(" "))]),
  );

  // Math.random: xoshiro128**, seeded by the host at every start(). V8's own generator keeps its state
  // in the context, so a run could learn it and predict the numbers the next run in the context draws.
  let s0 = 1, s1 = 2, s2 = 3, s3 = 4;
  const rotl = (x, k) => (x << k) | (x >>> (32 - k));

  function next32() {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  }

  function seedRandom(seed) {
    [s0, s1, s2, s3] = seed;
    if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
    for (let i = 0; i < 8; i++) next32();
  }

  const { random } = { random() { return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992; } };

  // Remove what is not ECMAScript or whose memory escapes the isolate's heap limit, which counts only the
  // V8 heap: ArrayBuffer backing stores (typed arrays, WebAssembly memories) are allocated outside it, and
  // so is everything ICU holds — an Intl object and its copy of the text it works on (100 segmenters over a
  // 20 MB string held 4 GB), and the buffers of the locale-dependent String, Number, BigInt and Date
  // methods (normalizing a 40 MB string took 200 MB) — and every Temporal object's data (2 million
  // PlainDates held 500 MB under a 64 MB cap). Without them a script's memory is its heap.
  const REMOVED = ["ArrayBuffer", "SharedArrayBuffer", "Atomics", "DataView", "WebAssembly", "Int8Array",
    "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array",
    "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "Intl", "Temporal"];
  const REMOVED_METHODS = [
    [String.prototype, ["localeCompare", "normalize", "toLocaleLowerCase", "toLocaleUpperCase"]],
    [g.Number.prototype, ["toLocaleString"]],
    [g.BigInt.prototype, ["toLocaleString"]],
    [g.Date.prototype, ["toLocaleString", "toLocaleDateString", "toLocaleTimeString", "toTemporalInstant"]],
  ];

  // RegExp's legacy static accessors read the last match made anywhere in the context.
  const REGEXP_STATICS = ["input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$`", "rightContext",
    "$'", "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"];

  // Compiling takes memory outside the heap too, while it lasts: a 14 MB pattern took 1.9 GB to parse, a
  // 40 MB source given to eval 650 MB. What a script compiles while it runs (a pattern given as text, code
  // given to eval or a Function constructor) is limited to limits.maxCompileChars characters; its own
  // source and the literals in it are bounded by its upload. The functions below replace the built-ins
  // that compile text; each converts its arguments to text once, itself, so that what is measured is what
  // is compiled. The original constructors stay in this closure: nothing a script reaches leads to them.
  function tooLong(what) {
    return new RangeError(`${what}: at most ${limits.maxCompileChars} characters may be compiled while a script runs`);
  }

  function compilable(what, value) {
    const text = `${value}`;
    if (text.length > limits.maxCompileChars) throw tooLong(what);
    return text;
  }

  const regExpSource = getOwnPropertyDescriptor(RegExp.prototype, "source").get;

  // A regular expression object, not one that only looks like one: its source was bounded when it was made.
  function isRealRegExp(value) {
    try {
      apply(regExpSource, value, []);
      return value !== RegExp.prototype;
    } catch (e) {
      return false;
    }
  }

  function isRegExp(value) {
    if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
    const matcher = value[Symbol.match];
    return matcher !== undefined ? Boolean(matcher) : isRealRegExp(value);
  }

  function tameRegExp() {
    const Original = RegExp;
    const Tamed = function RegExp(pattern, flags) {
      if (new.target === undefined && isRegExp(pattern) && flags === undefined && pattern.constructor === Tamed) {
        return pattern;
      }
      let source;
      let given = flags;
      if (isRealRegExp(pattern)) {
        source = apply(regExpSource, pattern, []);
        if (given === undefined) given = pattern.flags;
      } else if (isRegExp(pattern)) {
        source = compilable("RegExp", pattern.source);
        if (given === undefined) given = pattern.flags;
      } else {
        source = pattern === undefined ? "" : compilable("RegExp", pattern);
      }
      return Reflect.construct(Original, [source, given === undefined ? undefined : `${given}`],
        new.target === undefined || new.target === Tamed ? Original : new.target);
    };
    for (const key of ownKeys(Original)) {
      if (key !== "prototype" && key !== "length" && key !== "name") {
        defineProperty(Tamed, key, getOwnPropertyDescriptor(Original, key));
      }
    }
    defineProperty(Tamed, "length", { value: Original.length });
    defineProperty(Tamed, "prototype", { value: Original.prototype, writable: false });
    defineProperty(Original.prototype, "constructor", { value: Tamed, writable: true, configurable: true });
    deleteProperty(Original.prototype, "compile");  // Annex B: compiles a new pattern into an old object
    // These construct their receiver's species (the original constructor when it names none) from the
    // receiver: only from a real regular expression.
    for (const symbol of [Symbol.split, Symbol.matchAll]) {
      const original = Original.prototype[symbol];
      const method = { [symbol](...args) {
        if (!isRealRegExp(this)) throw new TypeError(`RegExp.prototype[${String(symbol)}] needs a regular expression`);
        return apply(original, this, args);
      } }[symbol];
      defineProperty(Original.prototype, symbol, { value: method, writable: true, configurable: true });
    }
    g.RegExp = Tamed;
  }

  // String.prototype.match, matchAll and search compile a pattern given as text.
  function tameStringSearches() {
    for (const [name, symbol] of [["match", Symbol.match], ["matchAll", Symbol.matchAll], ["search", Symbol.search]]) {
      const original = String.prototype[name];
      const method = { [name](regexp) {
        const object = (typeof regexp === "object" || typeof regexp === "function") && regexp !== null;
        if (object && regexp[symbol] !== undefined && regexp[symbol] !== null) return apply(original, this, [regexp]);
        return apply(original, this, [regexp === undefined ? undefined : compilable(`String.prototype.${name}`, regexp)]);
      } }[name];
      defineProperty(String.prototype, name, { value: method, writable: true, configurable: true });
    }
  }

  // eval and the Function constructors compile code given as text. (A direct eval becomes an indirect one:
  // the code sees the global scope, not the caller's.)
  function tameCodeFromText() {
    const originalEval = g.eval;
    g.eval = { eval(code) { return typeof code === "string" ? originalEval(compilable("eval", code)) : code; } }.eval;
    const constructors = [Function, getPrototypeOf(function* () {}).constructor, AsyncFunction,
      getPrototypeOf(async function* () {}).constructor];
    for (const Original of constructors) {
      const Tamed = function (...args) {
        const texts = args.map((arg) => compilable(Original.name, arg));
        if (texts.reduce((size, text) => size + text.length, 0) > limits.maxCompileChars) throw tooLong(Original.name);
        return Reflect.construct(Original, texts, new.target === undefined || new.target === Tamed ? Original : new.target);
      };
      defineProperty(Tamed, "name", { value: Original.name });
      defineProperty(Tamed, "length", { value: Original.length });
      defineProperty(Tamed, "prototype", { value: Original.prototype, writable: false });
      setPrototypeOf(Tamed, getPrototypeOf(Original));
      defineProperty(Original.prototype, "constructor", { value: Tamed, writable: false, configurable: true });
      if (Original === Function) g.Function = Tamed;
    }
  }

  // Inherited data properties that ordinary code assigns on its own objects. Frozen as they are, such an
  // assignment would fail (the "override mistake"), so they become accessors whose setter defines the
  // property on the object assigned to. "*" means every data property.
  const ERROR_NAMES = ["constructor", "message", "name"];
  const ASSIGNABLE = [
    [Object.prototype, "*"],
    [Array.prototype, ["toString"]],
    [Function.prototype, ["constructor", "bind", "toString"]],
    [Error.prototype, [...ERROR_NAMES, "toString"]],
    ...["EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError", "AggregateError",
      "SuppressedError"].filter((name) => typeof g[name] === "function").map((name) => [g[name].prototype, ERROR_NAMES]),
  ];

  function makeAssignable(home, key) {
    const desc = getOwnPropertyDescriptor(home, key);
    if (desc === undefined || !hasOwn(desc, "value") || !desc.configurable) return;
    const { value } = desc;
    const accessors = {
      get() { return value; },
      set(newValue) {
        if (this === home) throw new TypeError(`Cannot assign to read only property '${String(key)}' of a built-in object`);
        if (typeof this !== "object" && typeof this !== "function") return;
        const done = hasOwn(this, key)
          ? Reflect.set(this, key, newValue, this)
          : defineProperty(this, key, { value: newValue, writable: true, enumerable: true, configurable: true });
        if (!done) throw new TypeError(`Cannot assign to property '${String(key)}' of a non-extensible object`);
      },
    };
    defineProperty(home, key, { get: accessors.get, set: accessors.set, enumerable: desc.enumerable, configurable: false });
  }

  // Built-in objects reachable only through syntax or through objects a script creates, not by walking
  // from globalThis.
  function hiddenIntrinsics() {
    const errorStack = getOwnPropertyDescriptor(new Error(), "stack") || {};
    const capturedStack = {};
    Error.captureStackTrace(capturedStack);
    const capturedDesc = getOwnPropertyDescriptor(capturedStack, "stack") || {};
    return [
      getPrototypeOf(g),
      AsyncFunction,
      getPrototypeOf(function* () {}),
      getPrototypeOf(async function* () {}),
      getPrototypeOf([][Symbol.iterator]()),
      getPrototypeOf(new Map()[Symbol.iterator]()),
      getPrototypeOf(new Set()[Symbol.iterator]()),
      getPrototypeOf(""[Symbol.iterator]()),
      getPrototypeOf("".matchAll(/(?:)/g)),
      getPrototypeOf([].values().map((x) => x)),
      getPrototypeOf(Iterator.from({ next() { return { done: true }; } })),
      errorStack.get, errorStack.set, capturedDesc.get, capturedDesc.set,
      __srMoment.current(0, "UTC"),
    ];
  }

  // Freeze everything reachable from `roots` through prototypes and properties (accessors included),
  // except the global object, which scrub() looks after.
  function harden(roots) {
    const seen = new Set([g]);
    const todo = [...roots];
    while (todo.length > 0) {
      const value = todo.pop();
      if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue;
      seen.add(value);
      freeze(value);
      todo.push(getPrototypeOf(value));
      for (const key of ownKeys(value)) {
        const desc = getOwnPropertyDescriptor(value, key);
        todo.push(desc.value, desc.get, desc.set);
      }
    }
  }

  // The global object as init() left it: its prototype and its properties, all of them frozen by then.
  let globalProto = null;
  let globalKeys = null;

  // Put the global object back as init() left it, deleting what the run added; false when that cannot
  // be done.
  function scrub() {
    if (tainted || !isExtensible(g) || getPrototypeOf(g) !== globalProto) return false;
    const keys = ownKeys(g);
    for (let i = 0; i < keys.length; i++) {
      if (!globalKeys.has(keys[i]) && !deleteProperty(g, keys[i])) return false;
    }
    return true;
  }

  function init(settingsJson) {
    if (state !== "new") throw new Error("already initialised");
    limits = parse(settingsJson);
    const buffer = initConsole(limits.consoleBytes);
    for (const name of REMOVED) delete g[name];
    for (const [home, names] of REMOVED_METHODS) for (const name of names) delete home[name];
    for (const name of REGEXP_STATICS) delete RegExp[name];
    tameRegExp();
    tameStringSearches();
    tameCodeFromText();
    Math.random = random;
    const register = FinalizationRegistry.prototype.register;
    const registering = {
      register(target, heldValue, ...token) {
        tainted = true;
        return apply(register, this, [target, heldValue, ...token]);
      },
    };
    defineProperty(registering.register, "length", { value: register.length });
    FinalizationRegistry.prototype.register = registering.register;
    Object.assign(g, {
      console, setTimeout, clearTimeout,
      runAction: hostCall("action", "runAction"), performQuery: hostCall("query", "performQuery"),
    });
    for (const [home, keys] of ASSIGNABLE) {
      for (const key of keys === "*" ? ownKeys(home) : keys) makeAssignable(home, key);
    }
    const roots = [...hiddenIntrinsics()];
    for (const key of ownKeys(g)) {
      const desc = getOwnPropertyDescriptor(g, key);
      roots.push(desc.value, desc.get, desc.set);
    }
    harden(roots);
    for (const key of ownKeys(g)) {
      const desc = getOwnPropertyDescriptor(g, key);
      defineProperty(g, key, hasOwn(desc, "value") ? { writable: false, configurable: false } : { configurable: false });
    }
    globalProto = getPrototypeOf(g);
    globalKeys = new Set(ownKeys(g));
    state = "ready";
    return buffer;
  }

  // The script is the body of an async function whose one parameter is named `__sr` (kept so that line
  // numbers stay as they were). A SyntaxError thrown here leaves the eval, and the engine reads its line
  // and column from the message.
  function compile(source) {
    return new AsyncFunction("__sr", `${source}\n//# sourceURL=script.js`);
  }

  function defineGlobal(name, value) {
    defineProperty(g, name, { value, writable: true, enumerable: true, configurable: true });
  }

  // Start a run; false, running nothing, unless the context is fresh or was scrubbed after a clean run.
  // `zonesJson`, when given, replaces the time zone tables (clock.py): the run's clock is in another period.
  function start(runJson, zonesJson = null) {
    if (state !== "ready") return false;
    state = "running";
    const run = parse(runJson);
    outbox = [];
    outcome = null;
    callCount = 0;
    timerSeq = 0;
    pendingCalls.clear();
    timers.clear();
    resetConsole();
    seedRandom(run.seed);
    if (zonesJson !== null) __srMoment.zones(zonesJson);
    defineGlobal("Meta", { currentUserTime: __srMoment.current(run.now, run.zone) });
    defineGlobal("Trigger", { id: run.trigger.id, ingredients: run.trigger.ingredients });
    defineGlobal("Connection", run.connection);
    compile(run.source).call(undefined, undefined).then(
      () => { if (outcome === null) outcome = { status: "ok" }; },
      fatal,
    );
    return true;
  }

  // What the script asked for since the last drain, and its outcome once it has one. When the run has
  // ended cleanly (its body settled, no call or timer pending) the context is scrubbed here, and
  // `reusable` says whether another run may start in it.
  function drain() {
    const report = { outcome, out: outbox };
    outbox = [];
    if (state === "running" && outcome !== null && outcome.status === "ok" && pendingCalls.size === 0 &&
        timers.size === 0) {
      state = scrub() ? "ready" : "spent";
      report.reusable = state === "ready";
    }
    return stringify(report);
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

  return freeze({ init, zones: __srMoment.zones, compile, start, drain, settle, fail, fire });
})();
