//! An entry as templates see it ([`entry_value`]): its columns as minijinja values, and its
//! dates written as the Atom feed and the pages want them.

use chrono::{Datelike, NaiveDateTime, Timelike};
use minijinja::{context, Value};

use super::db::Entry;

/// An entry as templates see it: its columns, with the dates as Atom wants them
/// (`published`, `updated`) and as pages show them (`published_date`, Tornado's
/// `locale.format_date(..., full_format=True, shorter=True)`).
pub fn entry_value(e: Entry) -> Value {
    context! {
        id => e.id,
        author_id => e.author_id,
        slug => e.slug,
        title => e.title,
        markdown => e.markdown,
        html => e.html,
        published => atom_date(e.published),
        updated => atom_date(e.updated),
        published_date => long_date(e.published),
    }
}

/// `2009-09-01T12:00:00Z`, a date as Atom writes it (Tornado's `%Y-%m-%dT%H:%M:%SZ`).
/// (Written out: `format("%Y-...")` parses its pattern at each call, 4% of the server's
/// user CPU on `GET /`.)
pub fn atom_date(d: NaiveDateTime) -> String {
    let (date, time) = (d.date(), d.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        date.month(),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// `September 1, 2009`, a date as the pages show it (Tornado's `locale.format_date(date,
/// full_format=True, shorter=True)` in English).
fn long_date(d: NaiveDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = MONTHS[d.month0() as usize];
    format!("{month} {}, {}", d.day(), d.year())
}

/// [`entry_value`] of each entry.
pub fn entry_values(entries: Vec<Entry>) -> Vec<Value> {
    entries.into_iter().map(entry_value).collect()
}

#[cfg(test)]
mod tests {
    use super::{atom_date, long_date};

    #[test]
    fn dates_as_atom_and_the_pages_write_them() {
        let d = chrono::NaiveDate::from_ymd_opt(2009, 9, 1)
            .unwrap()
            .and_hms_opt(7, 5, 3)
            .unwrap();
        assert_eq!(atom_date(d), "2009-09-01T07:05:03Z");
        assert_eq!(long_date(d), "September 1, 2009");
    }
}
