// A moment.js-compatible subset for Meta.currentUserTime (DESIGN §6), evaluated in every script context.
//
// A moment here is an instant (epoch milliseconds) plus the user's time zone, given as a table of
// [fromEpochMs, offsetMinutes] rows that the hub computes with zoneinfo (see hub/scripts/clock.py).
// Like moment, add() and subtract() mutate the moment and return it; adding days, weeks, months,
// quarters or years keeps the wall-clock time across a DST change, adding hours or smaller units adds
// elapsed time. The supported methods are listed in docs/runtime-scripts.md.
//
// The built-ins it uses are taken from the global object once, when the prelude is evaluated, so a
// script that replaces a global (`Date = ...`) changes nothing here.

const __srMoment = (() => {
  "use strict";

  const { Date, Math, Number, Set, String, TypeError } = globalThis;

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const MINUTE = 60000;
  const ELAPSED = { ms: 1, s: 1000, m: MINUTE, h: 60 * MINUTE };
  const UNITS = {
    ms: "ms", millisecond: "ms", milliseconds: "ms", s: "s", second: "s", seconds: "s",
    m: "m", minute: "m", minutes: "m", h: "h", hour: "h", hours: "h", d: "d", day: "d", days: "d",
    w: "w", week: "w", weeks: "w", M: "M", month: "M", months: "M", Q: "Q", quarter: "Q",
    quarters: "Q", y: "y", year: "y", years: "y",
  };
  const TOKENS = /\[[^\]]*\]|YYYY|YY|Q|MMMM|MMM|MM|M|Do|DD|D|dddd|ddd|dd|d|E|HH|H|hh|h|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;

  const pad = (n, width) => String(n).padStart(width, "0");
  const ordinal = (n) => {
    const tens = n % 100;
    const suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] || "th";
    return n + suffix;
  };
  const signed = (minutes, separator) => {
    const sign = minutes < 0 ? "-" : "+";
    const abs = Math.abs(minutes);
    return sign + pad(Math.floor(abs / 60), 2) + separator + pad(abs % 60, 2);
  };

  function offsetAt(zone, t) {
    let offset = zone[0][1];
    for (const [from, minutes] of zone) {
      if (from > t) break;
      offset = minutes;
    }
    return offset;
  }

  // The instant whose wall-clock time in the zone is `wall` (milliseconds as if the zone were UTC).
  // In a DST gap the time moves forward by the gap, like moment; in an overlap the earlier one wins.
  function instantOf(zone, wall) {
    const candidates = new Set([offsetAt(zone, wall - 14 * 60 * MINUTE), offsetAt(zone, wall + 14 * 60 * MINUTE)]);
    let best = null;
    for (const offset of candidates) {
      const t = wall - offset * MINUTE;
      if (offsetAt(zone, t) === offset && (best === null || t < best)) best = t;
    }
    return best === null ? wall - offsetAt(zone, wall - 14 * 60 * MINUTE) * MINUTE : best;
  }

  class Moment {
    constructor(t, zone, zoneName) {
      this._t = t;
      this._zone = zone;
      this._zoneName = zoneName;
    }

    _wall() { return new Date(this._t + this.utcOffset() * MINUTE); }

    utcOffset() { return offsetAt(this._zone, this._t); }
    tz() { return this._zoneName; }
    year() { return this._wall().getUTCFullYear(); }
    month() { return this._wall().getUTCMonth(); }
    date() { return this._wall().getUTCDate(); }
    day() { return this._wall().getUTCDay(); }
    isoWeekday() { return this.day() || 7; }
    hour() { return this._wall().getUTCHours(); }
    minute() { return this._wall().getUTCMinutes(); }
    second() { return this._wall().getUTCSeconds(); }
    millisecond() { return this._wall().getUTCMilliseconds(); }
    hours() { return this.hour(); }
    minutes() { return this.minute(); }
    seconds() { return this.second(); }
    valueOf() { return this._t; }
    unix() { return Math.floor(this._t / 1000); }
    toDate() { return new Date(this._t); }
    toISOString() { return new Date(this._t).toISOString(); }
    toJSON() { return this.toISOString(); }
    toString() { return this.format("ddd MMM DD YYYY HH:mm:ss [GMT]ZZ"); }
    clone() { return new Moment(this._t, this._zone, this._zoneName); }

    add(amount, unit) {
      const n = Number(amount);
      const key = UNITS[unit];
      if (!Number.isFinite(n) || key === undefined) throw new TypeError(`add: unsupported amount or unit '${unit}'`);
      if (key in ELAPSED) {
        this._t += n * ELAPSED[key];
        return this;
      }
      const wall = this._wall();
      if (key === "d" || key === "w") {
        wall.setUTCDate(wall.getUTCDate() + n * (key === "w" ? 7 : 1));
      } else {
        const months = key === "M" ? n : key === "Q" ? 3 * n : 12 * n;
        const day = wall.getUTCDate();
        wall.setUTCDate(1);
        wall.setUTCMonth(wall.getUTCMonth() + months);
        const lastDay = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 0)).getUTCDate();
        wall.setUTCDate(Math.min(day, lastDay));
      }
      this._t = instantOf(this._zone, wall.getTime());
      return this;
    }

    subtract(amount, unit) { return this.add(-Number(amount), unit); }

    format(pattern = "YYYY-MM-DDTHH:mm:ssZ") {
      const w = this._wall();
      const offset = this.utcOffset();
      const hour = w.getUTCHours();
      const values = {
        YYYY: () => pad(w.getUTCFullYear(), 4), YY: () => pad(w.getUTCFullYear() % 100, 2),
        Q: () => String(Math.floor(w.getUTCMonth() / 3) + 1),
        MMMM: () => MONTHS[w.getUTCMonth()], MMM: () => MONTHS[w.getUTCMonth()].slice(0, 3),
        MM: () => pad(w.getUTCMonth() + 1, 2), M: () => String(w.getUTCMonth() + 1),
        Do: () => ordinal(w.getUTCDate()), DD: () => pad(w.getUTCDate(), 2), D: () => String(w.getUTCDate()),
        dddd: () => DAYS[w.getUTCDay()], ddd: () => DAYS[w.getUTCDay()].slice(0, 3),
        dd: () => DAYS[w.getUTCDay()].slice(0, 2), d: () => String(w.getUTCDay()),
        E: () => String(w.getUTCDay() || 7),
        HH: () => pad(hour, 2), H: () => String(hour),
        hh: () => pad(hour % 12 || 12, 2), h: () => String(hour % 12 || 12),
        mm: () => pad(w.getUTCMinutes(), 2), m: () => String(w.getUTCMinutes()),
        ss: () => pad(w.getUTCSeconds(), 2), s: () => String(w.getUTCSeconds()),
        SSS: () => pad(w.getUTCMilliseconds(), 3), SS: () => pad(Math.floor(w.getUTCMilliseconds() / 10), 2),
        S: () => String(Math.floor(w.getUTCMilliseconds() / 100)),
        A: () => (hour < 12 ? "AM" : "PM"), a: () => (hour < 12 ? "am" : "pm"),
        ZZ: () => signed(offset, ""), Z: () => signed(offset, ":"),
        X: () => String(this.unix()), x: () => String(this._t),
      };
      return String(pattern).replace(TOKENS, (token) => (token[0] === "[" ? token.slice(1, -1) : values[token]()));
    }
  }

  return (t, zone, zoneName) => new Moment(t, zone, zoneName);
})();
