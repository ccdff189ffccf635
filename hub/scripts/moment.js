// A moment.js-compatible subset for Meta.currentUserTime (DESIGN §6), evaluated in every script context.
//
// A moment here is an instant (epoch milliseconds, NaN when invalid) plus a time zone, kept in private
// fields a script cannot reach. The zones are tables of [fromEpochMs, offsetMinutes, abbreviation] rows
// that the hub computes with zoneinfo for every zone it knows (hub/scripts/clock.py) and hands to the
// context with zones(); tz(name) looks a zone up there, so naming a zone never needs the host. It
// behaves as moment 2.30 with moment-timezone does, in English, with these choices: an unknown unit or
// zone name is an Error rather than ignored, a string is read only in ISO 8601 (without an offset, in
// the moment's own zone), and there is no `moment()` global. The supported methods are listed in
// docs/runtime-scripts.md.
//
// The built-ins it uses are taken from the global object once, when the prelude is evaluated, so a
// script that replaces a global (`Date = ...`) changes nothing here.

const __srMoment = (() => {
  "use strict";

  const { Array, Date, JSON, Map, Math, Number, Object, RangeError, Reflect, String, TypeError } = globalThis;
  const { abs, ceil, floor, min, round, trunc } = Math;
  const { isArray } = Array;
  const { freeze, hasOwn, keys } = Object;
  const getTime = Date.prototype.getTime;

  const SECOND = 1000;
  const MINUTE = 60 * SECOND;
  const HOUR = 60 * MINUTE;
  const DAY = 24 * HOUR;
  const MAX_TIME = 8.64e15; // what a JS Date can hold either side of the epoch
  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const LOCAL_FORMATS = {
    LT: "h:mm A", LTS: "h:mm:ss A", L: "MM/DD/YYYY", LL: "MMMM D, YYYY", LLL: "MMMM D, YYYY h:mm A",
    LLLL: "dddd, MMMM D, YYYY h:mm A", l: "M/D/YYYY", ll: "MMM D, YYYY", lll: "MMM D, YYYY h:mm A",
    llll: "ddd, MMM D, YYYY h:mm A",
  };
  const LOCAL_TOKENS = /\[[^[]*\]|\\.|LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l/g;
  const FORMAT_TOKENS = new RegExp(
    "\\[[^[]*\\]|\\\\?(?:Mo|MMMM|MMM|MM|M|Qo|Q|DDDo|DDDD|DDD|Do|DD|D|do|dddd|ddd|dd|d|e|E|wo|ww|w|Wo|WW|W|" +
    "YYYYYY|YYYYY|YYYY|YY|Y|gggg|gg|GGGG|GG|A|a|HH|H|hh|h|kk|k|mm|m|ss|s|S{1,9}|zz?|ZZ?|X|x)|\\\\.", "g");
  const ISO_EXTENDED = /^\s*([+-]\d{6}|\d{4})-(\d\d)(?:-(\d\d))?(?:[T ](\d\d)(?::(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?)?$/;
  const ISO_BASIC = /^\s*([+-]\d{6}|\d{4})(?:(\d\d)(\d\d)?)?(?:[T ](\d\d)(?:(\d\d)(?:(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?)?$/;
  const SHORT_OFFSET = /Z|[+-]\d\d(?::?\d\d)?/gi;

  // Units as moment names them: the shorthands exactly, the long names in any case, singular or plural.
  const UNITS = new Map();
  for (const [unit, shorthand] of [["year", "y"], ["quarter", "Q"], ["month", "M"], ["week", "w"], ["isoWeek", "W"],
    ["day", "d"], ["date", "D"], ["hour", "h"], ["minute", "m"], ["second", "s"], ["millisecond", "ms"],
    ["weekday", "e"], ["isoWeekday", "E"], ["dayOfYear", "DDD"], ["weekYear", "gg"], ["isoWeekYear", "GG"]]) {
    UNITS.set(shorthand, unit).set(unit.toLowerCase(), unit).set(`${unit.toLowerCase()}s`, unit);
  }
  const SPAN_UNITS = new Set(["year", "quarter", "month", "week", "isoWeek", "day", "date", "hour", "minute",
    "second", "millisecond"]);
  const DIFF_UNITS = new Set(["year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond"]);
  const ADD_UNITS = new Set([...DIFF_UNITS, "isoWeek"]);
  // The order moment sets units in when given an object (set({...})).
  const SET_ORDER = ["year", "dayOfYear", "week", "isoWeek", "quarter", "month", "date", "day", "weekday",
    "isoWeekday", "hour", "minute", "second", "millisecond"];
  const SET_UNITS = new Set(SET_ORDER);
  const GET_UNITS = new Set([...SPAN_UNITS, "weekday", "isoWeekday", "dayOfYear", "weekYear", "isoWeekYear"]);
  // What add() counts each unit as: elapsed milliseconds, or calendar days or months.
  const ELAPSED = { hour: HOUR, minute: MINUTE, second: SECOND, millisecond: 1 };
  const CALENDAR = { year: ["months", 12], quarter: ["months", 3], month: ["months", 1], week: ["days", 7],
    isoWeek: ["days", 7], day: ["days", 1] };

  const absent = (value) => value === undefined || value === null;
  const clipText = (text) => (text.length > 60 ? `${text.slice(0, 60)}…` : text);
  const clip = (t) => (abs(t) <= MAX_TIME ? trunc(t) + 0 : NaN);
  const mod = (n, d) => ((n % d) + d) % d;
  const absRound = (n) => (n < 0 ? -round(-n) : round(n));
  const absFloor = (n) => (n < 0 ? ceil(n) || 0 : floor(n));
  const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysInMonth = (y, m) => (m === 1 ? (isLeap(y) ? 29 : 28) : 31 - ((m % 7) % 2));

  function zeroFill(n, width, forceSign = false) {
    const digits = String(abs(n));
    return (n >= 0 ? (forceSign ? "+" : "") : "-") + digits.padStart(width, "0");
  }

  function ordinal(n) {
    const tens = n % 100;
    return n + (tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] || "th");
  }

  // The milliseconds of a wall-clock time, counted as if the zone were UTC (years 0-99 are not 1900s).
  function wallOf(y, mo, d, h = 0, mi = 0, s = 0, ms = 0) {
    const date = new Date(0);
    date.setUTCFullYear(y, mo, d);
    return date.setUTCHours(h, mi, s, ms);
  }

  function unitOf(value, method, allowed) {
    if (absent(value)) return undefined;
    if (typeof value !== "string") throw new TypeError(`${method}: a unit must be a string`);
    const unit = UNITS.get(value) ?? UNITS.get(value.toLowerCase());
    if (unit === undefined || !allowed.has(unit)) throw new RangeError(`${method}: unsupported unit '${clipText(value)}'`);
    return unit;
  }

  function nameIndex(names, value) {
    if (typeof value !== "string") return -1;
    const wanted = value.toLowerCase();
    return names.findIndex((name) => name.toLowerCase() === wanted || name.slice(0, 3).toLowerCase() === wanted ||
      (names === DAYS && name.slice(0, 2).toLowerCase() === wanted));
  }

  // --- Time zones ---

  // A zone is its name and its rows, flat: [fromEpochMs, offsetMinutes, abbreviation, fromEpochMs, ...].
  const UTC = freeze({ name: "UTC", rows: freeze([-MAX_TIME, 0, "UTC"]) });
  let tables = { zones: {}, tables: [] };
  let runNow = 0;

  // Replace the zone tables with the host's (clock.py says how they are laid out).
  function setZones(json) {
    tables = JSON.parse(json);
  }

  // moment-timezone compares zone names in lower case, with "_" for "/".
  const zoneKey = (name) => name.toLowerCase().replaceAll("/", "_");

  function zoneNamed(name) {
    let canonical = name;
    if (!hasOwn(tables.zones, name)) {
      const key = zoneKey(name);
      canonical = keys(tables.zones).find((known) => zoneKey(known) === key);
      if (canonical === undefined) return key === "utc" ? UTC : undefined;
    }
    return { name: canonical, rows: tables.tables[tables.zones[canonical]] };
  }

  const fixedZone = (minutes) => ({ name: undefined, rows: [-MAX_TIME, minutes, minutes === 0 ? "UTC" : ""] });

  // The index of the row in effect at `t`.
  function rowAt(zone, t) {
    const rows = zone.rows;
    let i = 0;
    while (i + 3 < rows.length && rows[i + 3] <= t) i += 3;
    return i;
  }

  const offsetAt = (zone, t) => zone.rows[rowAt(zone, t) + 1];

  // The instant whose wall-clock time in `zone` is `wall`. `prefer` (an offset in minutes) wins when it
  // fits: a moment moved within an hour that occurs twice keeps its offset, as in moment-timezone.
  // Otherwise the earlier of two instants wins, and a time in a DST gap moves forward by the gap.
  function instantOf(zone, wall, prefer) {
    if (!(abs(wall) <= MAX_TIME + DAY)) return NaN;
    if (prefer !== undefined && offsetAt(zone, wall - prefer * MINUTE) === prefer) return clip(wall - prefer * MINUTE);
    let earliest = NaN;
    let forward = NaN;
    for (let i = rowAt(zone, wall - 15 * HOUR), last = rowAt(zone, wall + 15 * HOUR); i <= last; i += 3) {
      const offset = zone.rows[i + 1];
      const t = wall - offset * MINUTE;
      if (offsetAt(zone, t) === offset) {
        if (!(t >= earliest)) earliest = t;
      } else if (!(t <= forward)) {
        forward = t;
      }
    }
    return clip(Number.isNaN(earliest) ? forward : earliest);
  }

  // --- Reading what a script passes ---

  function parseIso(text, zone) {
    if (text.length > 64) return NaN;
    const m = ISO_EXTENDED.exec(text) || ISO_BASIC.exec(text);
    if (m === null) return NaN;
    const [y, mo, d, h, mi, s] = [m[1], m[2] ?? "01", m[3] ?? "01", m[4] ?? "0", m[5] ?? "0", m[6] ?? "0"].map(Number);
    const ms = m[7] === undefined ? 0 : trunc(Number(`0.${m[7]}`) * 1000);
    const wall = fields(y, mo - 1, d, h, mi, s, ms);
    if (Number.isNaN(wall) || m[8] === undefined) return instantOf(zone, wall);
    return clip(wall - offsetMinutes(m[8]) * MINUTE);
  }

  // moment's array form, [year, month, date, hours, minutes, seconds, ms], in `zone`; a time that does
  // not exist on the calendar (month 12, Feb 30, 25:00) is invalid.
  function fromArray(parts, zone) {
    const now = new Date(runNow + offsetAt(zone, runNow) * MINUTE);
    const given = [];
    for (let i = 0; i < 7; i++) given.push(i < parts.length ? trunc(Number(parts[i])) : undefined);
    const defaults = parts.length === 0 ? [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()] : [NaN, 0, 1];
    const [y, mo, d, h, mi, s, ms] = given.map((value, i) => value ?? (i < 3 ? defaults[i] : 0));
    return instantOf(zone, fields(y, mo, d, h, mi, s, ms));
  }

  // A wall-clock time from its fields, NaN when one is out of its range.
  function fields(y, mo, d, h, mi, s, ms) {
    const valid = mo >= 0 && mo <= 11 && d >= 1 && d <= daysInMonth(y, mo) && mi >= 0 && mi <= 59 && s >= 0 &&
      s <= 59 && ms >= 0 && ms <= 999 && (h >= 0 && h <= 23 || (h === 24 && mi === 0 && s === 0 && ms === 0));
    return valid && Number.isInteger(y) ? wallOf(y, mo, d, h, mi, s, ms) : NaN;
  }

  function offsetMinutes(text) {
    if (text === "Z" || text === "z") return 0;
    const digits = text.slice(1).replace(":", "");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0");
    return text[0] === "-" ? -minutes : minutes;
  }

  function asDate(value) {
    try {
      return Reflect.apply(getTime, value, []);
    } catch {
      return undefined;
    }
  }

  // add()/subtract()'s amount as moment's durations count it: elapsed milliseconds, and calendar days and
  // months, rounded (weeks count as 7 days, quarters 3 months, years 12).
  function durationOf(amount, unit, method) {
    const span = { ms: 0, days: 0, months: 0 };
    if (absent(amount)) return span;
    if (typeof amount === "object" && !isArray(amount)) {
      for (const key of keys(amount)) addTo(span, unitOf(key, method, ADD_UNITS), amount[key]);
    } else {
      if (typeof amount !== "number" && !(typeof amount === "string" && amount.trim() !== "" && !Number.isNaN(Number(amount)))) {
        throw new TypeError(`${method}: the amount must be a number or an object of units`);
      }
      addTo(span, unitOf(unit, method, ADD_UNITS) ?? "millisecond", amount);
    }
    span.days = absRound(span.days);
    span.months = absRound(span.months);
    return span;
  }

  function addTo(span, unit, value) {
    const n = Number(value) || 0; // moment counts a NaN amount as nothing
    if (unit in ELAPSED) span.ms += n * ELAPSED[unit];
    else span[CALENDAR[unit][0]] += n * CALENDAR[unit][1];
  }

  // The week of the year and its year, for weeks that start on `dow` (0 = Sunday) and whose week 1
  // holds January `jan`: ISO weeks (Monday, January 4th) or moment's English ones (Sunday, January 1st).
  function weekStart(year, dow, jan) {
    const day = wallOf(year, 0, jan) / DAY;
    return day - mod(day + 4 - dow, 7); // 1970-01-01 was a Thursday
  }

  function weekOf(wall, dow, jan) {
    const w = new Date(wall);
    const year = w.getUTCFullYear();
    const day = floor(wall / DAY);
    let start = weekStart(year, dow, jan);
    let weekYear = year;
    if (day < start) {
      weekYear = year - 1;
      start = weekStart(weekYear, dow, jan);
    } else if (day >= weekStart(year + 1, dow, jan)) {
      weekYear = year + 1;
      start = weekStart(weekYear, dow, jan);
    }
    return { week: floor((day - start) / 7) + 1, year: weekYear };
  }

  const weeksIn = (year, dow, jan) => (weekStart(year + 1, dow, jan) - weekStart(year, dow, jan)) / 7;

  const KEY = freeze({});

  class Moment {
    #t;
    #zone;

    constructor(key, t, zone) {
      if (key !== KEY) throw new TypeError("Illegal constructor");
      this.#t = clip(t);
      this.#zone = zone;
    }

    static #is(value) {
      return (typeof value === "object" && value !== null) && #t in value;
    }

    // What a script passes where moment takes a "moment-like": a moment, a Date, epoch milliseconds, an
    // ISO 8601 string, an array of fields, or nothing (the run's now). Anything else is invalid (NaN).
    #instantOf(value) {
      if (value === undefined) return runNow; // moment(undefined) is now, moment(null) invalid
      if (typeof value === "number") return clip(value);
      if (typeof value === "string") return parseIso(value, this.#zone);
      if (Moment.#is(value)) return value.#t;
      if (isArray(value)) return fromArray(value, this.#zone);
      const date = typeof value === "object" && value !== null ? asDate(value) : undefined;
      return date === undefined ? NaN : clip(date);
    }

    #offset() { return offsetAt(this.#zone, this.#t); }
    #wall() { return new Date(this.#t + this.#offset() * MINUTE); }

    // Move to a wall-clock time, keeping the offset when it still fits.
    #toWall(wall) {
      this.#t = instantOf(this.#zone, wall, this.#offset());
      return this;
    }

    // Move by the change of wall-clock time, as elapsed time (moment's setters of minutes and smaller).
    #byWall(wall) {
      this.#t = clip(this.#t + (wall - (this.#t + this.#offset() * MINUTE)));
      return this;
    }

    // --- Getters and setters (a value sets, like moment; a value that is not a number does nothing) ---

    #set(value, apply, keepTime = true) {
      const n = typeof value === "number" ? value : Number(value);
      if (Number.isNaN(n) || !this.isValid()) return this;
      const w = this.#wall();
      apply(w, trunc(n));
      return keepTime ? this.#toWall(w.getTime()) : this.#byWall(w.getTime());
    }

    year(value) {
      if (absent(value)) return this.#wall().getUTCFullYear();
      return this.#set(value, (w, y) => {
        const m = w.getUTCMonth();
        w.setUTCFullYear(y, m, min(w.getUTCDate(), daysInMonth(y, m)));
      });
    }

    month(value) {
      if (absent(value)) return this.#wall().getUTCMonth();
      const named = nameIndex(MONTHS, value);
      return this.#set(named >= 0 ? named : value, (w, m) => {
        const day = w.getUTCDate();
        w.setUTCDate(1);
        w.setUTCMonth(m);
        w.setUTCDate(min(day, daysInMonth(w.getUTCFullYear(), w.getUTCMonth())));
      });
    }

    quarter(value) {
      if (absent(value)) return floor(this.month() / 3) + 1;
      return this.month((Number(value) - 1) * 3 + (this.month() % 3));
    }

    date(value) {
      if (absent(value)) return this.#wall().getUTCDate();
      return this.#set(value, (w, d) => w.setUTCDate(d));
    }

    day(value) {
      if (absent(value)) return this.#wall().getUTCDay();
      const named = nameIndex(DAYS, value);
      return this.#set(named >= 0 ? named : value, (w, d) => w.setUTCDate(w.getUTCDate() + d - w.getUTCDay()));
    }

    weekday(value) {
      return absent(value) ? this.day() : this.day(typeof value === "string" ? Number(value) : value);
    }

    isoWeekday(value) {
      if (absent(value)) return this.day() || 7;
      const named = nameIndex(DAYS, value);
      const n = named >= 0 ? named || 7 : Number(value);
      return this.day(this.day() % 7 ? n : n - 7);
    }

    dayOfYear(value) {
      const w = this.#wall();
      const current = floor(w.getTime() / DAY) - wallOf(w.getUTCFullYear(), 0, 1) / DAY + 1;
      if (absent(value)) return current;
      return this.#set(value, (d, n) => d.setUTCDate(d.getUTCDate() + n - current));
    }

    week(value) {
      const current = weekOf(this.#wall().getTime(), 0, 1).week;
      if (absent(value)) return current;
      return this.#set(value, (w, n) => w.setUTCDate(w.getUTCDate() + (n - current) * 7));
    }

    isoWeek(value) {
      const current = weekOf(this.#wall().getTime(), 1, 4).week;
      if (absent(value)) return current;
      return this.#set(value, (w, n) => w.setUTCDate(w.getUTCDate() + (n - current) * 7));
    }

    weekYear() { return weekOf(this.#wall().getTime(), 0, 1).year; }
    isoWeekYear() { return weekOf(this.#wall().getTime(), 1, 4).year; }
    weeksInYear() { return weeksIn(this.weekYear(), 0, 1); }
    isoWeeksInYear() { return weeksIn(this.isoWeekYear(), 1, 4); }

    hour(value) {
      if (absent(value)) return this.#wall().getUTCHours();
      return this.#set(value, (w, h) => w.setUTCHours(h));
    }

    minute(value) {
      if (absent(value)) return this.#wall().getUTCMinutes();
      return this.#set(value, (w, m) => w.setUTCMinutes(m), false);
    }

    second(value) {
      if (absent(value)) return this.#wall().getUTCSeconds();
      return this.#set(value, (w, s) => w.setUTCSeconds(s), false);
    }

    millisecond(value) {
      if (absent(value)) return this.#wall().getUTCMilliseconds();
      return this.#set(value, (w, ms) => w.setUTCMilliseconds(ms), false);
    }

    years(value) { return this.year(value); }
    quarters(value) { return this.quarter(value); }
    months(value) { return this.month(value); }
    weeks(value) { return this.week(value); }
    isoWeeks(value) { return this.isoWeek(value); }
    dates(value) { return this.date(value); }
    days(value) { return this.day(value); }
    hours(value) { return this.hour(value); }
    minutes(value) { return this.minute(value); }
    seconds(value) { return this.second(value); }
    milliseconds(value) { return this.millisecond(value); }

    get(unit) {
      const name = unitOf(unit, "get", GET_UNITS);
      if (name === undefined) throw new TypeError("get: a unit is required");
      return this[name]();
    }

    set(unit, value) {
      if (typeof unit === "object" && unit !== null) {
        const pairs = keys(unit).map((key) => [unitOf(key, "set", SET_UNITS), unit[key]]);
        pairs.sort((a, b) => SET_ORDER.indexOf(a[0]) - SET_ORDER.indexOf(b[0]));
        for (const [name, v] of pairs) this[name](v);
        return this;
      }
      const name = unitOf(unit, "set", SET_UNITS);
      return name === undefined ? this : this[name](value);
    }

    daysInMonth() {
      const w = this.#wall();
      return daysInMonth(w.getUTCFullYear(), w.getUTCMonth());
    }

    isLeapYear() { return isLeap(this.year()); }
    isValid() { return !Number.isNaN(this.#t); }

    // --- Arithmetic ---

    add(amount, unit) { return this.#shift(amount, unit, 1, "add"); }
    subtract(amount, unit) { return this.#shift(amount, unit, -1, "subtract"); }

    #shift(amount, unit, sign, method) {
      // moment's deprecated (unit, amount) order still works there, so it does here
      if ((typeof unit === "number" || (typeof unit === "string" && unit.trim() !== "" && !Number.isNaN(Number(unit)))) &&
        typeof amount === "string") {
        [amount, unit] = [unit, amount];
      }
      const { ms, days, months } = durationOf(amount, unit, method);
      if (!this.isValid()) return this;
      if (months !== 0 || days !== 0) {
        const w = this.#wall();
        if (months !== 0) {
          const day = w.getUTCDate();
          w.setUTCDate(1);
          w.setUTCMonth(w.getUTCMonth() + months * sign);
          w.setUTCDate(min(day, daysInMonth(w.getUTCFullYear(), w.getUTCMonth())));
        }
        if (days !== 0) w.setUTCDate(w.getUTCDate() + days * sign);
        this.#toWall(w.getTime());
      }
      if (ms !== 0) this.#t = clip(this.#t + ms * sign);
      return this;
    }

    startOf(unit) { return this.#edge(unitOf(unit, "startOf", SPAN_UNITS), 0); }
    endOf(unit) { return this.#edge(unitOf(unit, "endOf", SPAN_UNITS), 1); }

    // The wall-clock start of the unit holding this moment (`next` 0), or the millisecond before the
    // next one's start (`next` 1).
    #edge(unit, next) {
      if (unit === undefined || unit === "millisecond" || !this.isValid()) return this;
      const w = this.#wall();
      const [y, m, d] = [w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate()];
      let start;
      switch (unit) {
        case "year": start = wallOf(y + next, 0, 1); break;
        case "quarter": start = wallOf(y, m - (m % 3) + 3 * next, 1); break;
        case "month": start = wallOf(y, m + next, 1); break;
        case "week": start = wallOf(y, m, d - w.getUTCDay() + 7 * next); break;
        case "isoWeek": start = wallOf(y, m, d - mod(w.getUTCDay() - 1, 7) + 7 * next); break;
        case "day": case "date": start = wallOf(y, m, d + next); break;
        default: {
          const size = unit === "hour" ? HOUR : unit === "minute" ? MINUTE : SECOND;
          start = w.getTime() - mod(w.getTime(), size) + size * next;
        }
      }
      return this.#toWall(start - next);
    }

    // --- Comparing ---

    isBefore(input, unit) {
      const other = this.#instantOf(input);
      const span = unitOf(unit, "isBefore", SPAN_UNITS) ?? "millisecond";
      if (!this.isValid() || Number.isNaN(other)) return false;
      return (span === "millisecond" ? this.#t : this.clone().endOf(span).#t) < other;
    }

    isAfter(input, unit) {
      const other = this.#instantOf(input);
      const span = unitOf(unit, "isAfter", SPAN_UNITS) ?? "millisecond";
      if (!this.isValid() || Number.isNaN(other)) return false;
      return other < (span === "millisecond" ? this.#t : this.clone().startOf(span).#t);
    }

    isSame(input, unit) {
      const other = this.#instantOf(input);
      const span = unitOf(unit, "isSame", SPAN_UNITS) ?? "millisecond";
      if (!this.isValid() || Number.isNaN(other)) return false;
      if (span === "millisecond") return this.#t === other;
      return this.clone().startOf(span).#t <= other && other <= this.clone().endOf(span).#t;
    }

    isSameOrBefore(input, unit) { return this.isSame(input, unit) || this.isBefore(input, unit); }
    isSameOrAfter(input, unit) { return this.isSame(input, unit) || this.isAfter(input, unit); }

    isBetween(from, to, unit, inclusivity) {
      const bounds = absent(inclusivity) ? "()" : inclusivity;
      if (!["()", "[)", "(]", "[]"].includes(bounds)) throw new RangeError("isBetween: inclusivity must be '()', '[)', '(]' or '[]'");
      unitOf(unit, "isBetween", SPAN_UNITS);
      const low = this.#instantOf(from);
      const high = this.#instantOf(to);
      if (!this.isValid() || Number.isNaN(low) || Number.isNaN(high)) return false;
      const after = bounds[0] === "(" ? this.isAfter(low, unit) : !this.isBefore(low, unit);
      return after && (bounds[1] === ")" ? this.isBefore(high, unit) : !this.isAfter(high, unit));
    }

    diff(input, unit, asFloat) {
      const span = unitOf(unit, "diff", DIFF_UNITS) ?? "millisecond";
      const other = this.#instantOf(input);
      if (!this.isValid() || Number.isNaN(other)) return NaN;
      const that = new Moment(KEY, other, this.#zone);
      const delta = this.#t - other;
      const zoneDelta = (that.#offset() - this.#offset()) * MINUTE; // so that days across DST stay whole
      let output;
      switch (span) {
        case "year": output = Moment.#monthDiff(this, that) / 12; break;
        case "quarter": output = Moment.#monthDiff(this, that) / 3; break;
        case "month": output = Moment.#monthDiff(this, that); break;
        case "week": output = (delta - zoneDelta) / (7 * DAY); break;
        case "day": output = (delta - zoneDelta) / DAY; break;
        case "hour": output = delta / HOUR; break;
        case "minute": output = delta / MINUTE; break;
        case "second": output = delta / SECOND; break;
        default: output = delta;
      }
      return asFloat ? output : absFloor(output);
    }

    // Months from b to a, as moment counts them: whole months between the same day of the month (or the
    // month's last day, when it has no such day), and the rest as a share of the month it falls in.
    static #monthDiff(a, b) {
      if (a.date() < b.date()) return -Moment.#monthDiff(b, a);
      const whole = (b.year() - a.year()) * 12 + (b.month() - a.month());
      const anchor = a.clone().add(whole, "months").#t;
      const rest = b.#t - anchor;
      const other = a.clone().add(whole + (rest < 0 ? -1 : 1), "months").#t;
      const adjust = rest / abs(other - anchor);
      return -(whole + adjust) || 0;
    }

    // --- Time zones ---

    tz(name, keepLocalTime) {
      if (absent(name) || name === "") return this.#zone.name;
      if (typeof name !== "string") throw new TypeError("tz: a time zone name must be a string");
      const zone = zoneNamed(name);
      if (zone === undefined) throw new RangeError(`tz: unknown time zone '${clipText(name)}'`);
      return this.#rezone(zone, keepLocalTime);
    }

    utcOffset(value, keepLocalTime) {
      if (absent(value)) return this.isValid() ? this.#offset() : NaN;
      let minutes;
      if (typeof value === "string") {
        const found = value.length <= 64 ? value.match(SHORT_OFFSET) : null;
        if (found === null) return this;
        minutes = offsetMinutes(found[found.length - 1].toUpperCase());
      } else {
        minutes = Number(value);
        if (Number.isNaN(minutes)) return this;
        if (abs(minutes) < 16) minutes *= 60;
      }
      if (!(abs(minutes) <= 24 * 60)) throw new RangeError("utcOffset: an offset must be within 24 hours");
      return this.#rezone(fixedZone(round(minutes)), keepLocalTime);
    }

    utc(keepLocalTime) { return this.utcOffset(0, keepLocalTime); }

    #rezone(zone, keepLocalTime) {
      const wall = this.#t + this.#offset() * MINUTE;
      this.#zone = zone;
      if (keepLocalTime && this.isValid()) this.#t = instantOf(zone, wall);
      return this;
    }

    zoneAbbr() { return this.isValid() ? this.#zone.rows[rowAt(this.#zone, this.#t) + 2] : ""; }
    zoneName() { return this.zoneAbbr(); }

    isDST() {
      if (!this.isValid()) return false;
      const offset = this.#offset();
      return offset > this.clone().month(0).#offset() || offset > this.clone().month(5).#offset();
    }

    // --- Output ---

    clone() { return new Moment(KEY, this.#t, this.#zone); }
    valueOf() { return this.#t; }
    unix() { return floor(this.#t / 1000); }
    toDate() { return new Date(this.#t); }
    toJSON() { return this.toISOString(); }
    toString() { return this.format("ddd MMM DD YYYY HH:mm:ss [GMT]ZZ"); }

    toArray() {
      const w = this.#wall();
      return [w.getUTCFullYear(), w.getUTCMonth(), w.getUTCDate(), w.getUTCHours(), w.getUTCMinutes(),
        w.getUTCSeconds(), w.getUTCMilliseconds()];
    }

    toObject() {
      const [years, months, date, hours, minutes, seconds, milliseconds] = this.toArray();
      return { years, months, date, hours, minutes, seconds, milliseconds };
    }

    toISOString(keepOffset) {
      if (!this.isValid()) return null;
      if (keepOffset !== true) return new Date(this.#t).toISOString();
      const year = this.year();
      return this.format(year < 0 || year > 9999 ? "YYYYYY-MM-DD[T]HH:mm:ss.SSSZ" : "YYYY-MM-DD[T]HH:mm:ss.SSSZ");
    }

    format(pattern) {
      if (!this.isValid()) return "Invalid date";
      if (absent(pattern) || pattern === "") {
        pattern = this.#offset() === 0 ? "YYYY-MM-DDTHH:mm:ss[Z]" : "YYYY-MM-DDTHH:mm:ssZ";
      } else if (typeof pattern !== "string") {
        throw new TypeError("format: a pattern must be a string");
      }
      const expanded = pattern.replace(LOCAL_TOKENS, (token) => LOCAL_FORMATS[token] ?? token);
      const w = this.#wall();
      return expanded.replace(FORMAT_TOKENS, (token) => {
        if (token[0] === "[") return token.slice(1, -1);
        if (token[0] === "\\") return token.slice(1);
        return this.#token(token, w);
      });
    }

    #token(token, w) {
      const y = w.getUTCFullYear();
      const mo = w.getUTCMonth();
      const h = w.getUTCHours();
      switch (token) {
        case "M": return String(mo + 1);
        case "Mo": return ordinal(mo + 1);
        case "MM": return zeroFill(mo + 1, 2);
        case "MMM": return MONTHS[mo].slice(0, 3);
        case "MMMM": return MONTHS[mo];
        case "Q": return String(floor(mo / 3) + 1);
        case "Qo": return ordinal(floor(mo / 3) + 1);
        case "D": return String(w.getUTCDate());
        case "Do": return ordinal(w.getUTCDate());
        case "DD": return zeroFill(w.getUTCDate(), 2);
        case "DDD": return String(this.dayOfYear());
        case "DDDo": return ordinal(this.dayOfYear());
        case "DDDD": return zeroFill(this.dayOfYear(), 3);
        case "d": case "e": return String(w.getUTCDay());
        case "do": return ordinal(w.getUTCDay());
        case "dd": return DAYS[w.getUTCDay()].slice(0, 2);
        case "ddd": return DAYS[w.getUTCDay()].slice(0, 3);
        case "dddd": return DAYS[w.getUTCDay()];
        case "E": return String(w.getUTCDay() || 7);
        case "w": return String(this.week());
        case "wo": return ordinal(this.week());
        case "ww": return zeroFill(this.week(), 2);
        case "W": return String(this.isoWeek());
        case "Wo": return ordinal(this.isoWeek());
        case "WW": return zeroFill(this.isoWeek(), 2);
        case "YY": return zeroFill(y % 100, 2);
        case "YYYY": return zeroFill(y, 4);
        case "YYYYY": return zeroFill(y, 5);
        case "YYYYYY": return zeroFill(y, 6, true);
        case "Y": return y <= 9999 ? zeroFill(y, 4) : `+${y}`;
        case "gg": return zeroFill(this.weekYear() % 100, 2);
        case "gggg": return zeroFill(this.weekYear(), 4);
        case "GG": return zeroFill(this.isoWeekYear() % 100, 2);
        case "GGGG": return zeroFill(this.isoWeekYear(), 4);
        case "A": return h < 12 ? "AM" : "PM";
        case "a": return h < 12 ? "am" : "pm";
        case "H": return String(h);
        case "HH": return zeroFill(h, 2);
        case "h": return String(h % 12 || 12);
        case "hh": return zeroFill(h % 12 || 12, 2);
        case "k": return String(h || 24);
        case "kk": return zeroFill(h || 24, 2);
        case "m": return String(w.getUTCMinutes());
        case "mm": return zeroFill(w.getUTCMinutes(), 2);
        case "s": return String(w.getUTCSeconds());
        case "ss": return zeroFill(w.getUTCSeconds(), 2);
        case "z": case "zz": return this.zoneAbbr();
        case "Z": case "ZZ": {
          const offset = this.#offset();
          const separator = token === "Z" ? ":" : "";
          return (offset < 0 ? "-" : "+") + zeroFill(floor(abs(offset) / 60), 2) + separator + zeroFill(abs(offset) % 60, 2);
        }
        case "X": return String(this.unix());
        case "x": return String(this.#t);
        default: // S to SSSSSSSSS: tenths, hundredths, then milliseconds padded with zeros
          return zeroFill(w.getUTCMilliseconds(), 3).slice(0, token.length).padEnd(token.length, "0");
      }
    }
  }

  return freeze({
    zones: setZones,
    // The moment a run starts at, in the named zone (UTC when the tables have no such zone).
    current(now, zoneName) {
      runNow = clip(Number(now));
      return new Moment(KEY, runNow, zoneNamed(String(zoneName)) ?? UTC);
    },
  });
})();
