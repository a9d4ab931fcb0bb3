//! The total a list reports in `Content-Range` (`Prefer: count=...`): counted, the planner's
//! estimate, or counted while it is small and estimated beyond.
//!
//! The estimate is PostgREST's: the planner's row estimate of the count's rows, in the time
//! of planning whatever the table's size (on 1M rows: see `bench/SCALING.md`). SQLite keeps
//! no row estimates, so there every total is counted.

use super::*;
use crate::query::Count;

/// A list's total, and whether it was counted (else it is the planner's estimate).
#[derive(Clone, Copy, Debug)]
pub(super) struct Total {
    pub(super) rows: u64,
    pub(super) exact: bool,
}

impl Total {
    fn exact(rows: u64) -> Total {
        Total { rows, exact: true }
    }

    /// What `Preference-Applied` says of it.
    pub(super) fn applied(self) -> &'static str {
        if self.exact {
            "count=exact"
        } else {
            "count=planned"
        }
    }
}

/// The page a total goes with: its offset, the rows it asked for (its `LIMIT`) and the rows
/// it got.
#[derive(Clone, Copy, Debug)]
pub(super) struct Page {
    pub(super) offset: u64,
    pub(super) fetch: u64,
    pub(super) rows: u64,
}

/// The total of the rows `filters` match, as `count` asks, on the page's connection.
///
/// - `exact`: `COUNT(*)`.
/// - `planned`: a page shorter than asked ends the rows, so its total is known without a
///   statement (counted when the page is empty past offset 0: at most the rows its
///   `OFFSET` already stepped over). Otherwise the planner's estimate, never below the rows
///   the page shows to exist (`offset + rows`, so `Content-Range` stays well-formed).
/// - `estimated`: as `planned`, but counted when at most `max_limit` rows match (PostgREST
///   counts up to `db-max-rows`; here, the largest page the operation serves): a count that
///   stops after `max_limit + 1` rows decides, and above it the estimate is used, never
///   below those rows.
pub(super) async fn total<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    filters: &[Filter],
    count: query::Count,
    page: Page,
    max_limit: u64,
) -> Result<Total, sqlx::Error> {
    if count == Count::Exact {
        return Ok(Total::exact(counted::<B>(conn, res, filters, None).await?));
    }
    // The rows the page shows to exist.
    let seen = match page.rows {
        0 => 0,
        n => page.offset + n,
    };
    if page.rows < page.fetch {
        if page.rows > 0 || page.offset == 0 {
            return Ok(Total::exact(seen));
        }
        return Ok(Total::exact(counted::<B>(conn, res, filters, None).await?));
    }
    let mut floor = seen;
    if count == Count::Estimated && seen <= max_limit {
        let n = counted::<B>(conn, res, filters, Some(max_limit.saturating_add(1))).await?;
        if n <= max_limit {
            return Ok(Total::exact(n));
        }
        floor = floor.max(n);
    }
    match planned::<B>(conn, res, filters).await? {
        Some(rows) => Ok(Total {
            rows: rows.max(floor),
            exact: false,
        }),
        None => Ok(Total::exact(counted::<B>(conn, res, filters, None).await?)),
    }
}

/// `COUNT(*)` of the rows `filters` match, reading no more than `at_most` of them.
async fn counted<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    filters: &[Filter],
    at_most: Option<u64>,
) -> Result<u64, sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    match at_most {
        None => sql::count(&mut w, res, filters),
        Some(n) => sql::count_at_most(&mut w, res, filters, n),
    }
    let row = B::fetch_optional(conn, &w.sql, &w.args).await?;
    let n = row.as_ref().map(|r| B::get_i64(r, 0)).transpose()?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// The planner's estimate of the rows `filters` match (`None` on a backend without one).
async fn planned<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    filters: &[Filter],
) -> Result<Option<u64>, sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    if sql::explain_count(&mut w, res, filters).is_none() {
        return Ok(None);
    }
    let row = B::fetch_optional(conn, &w.sql, &w.args).await?;
    Ok(Some(
        row.as_ref().map(B::planned_rows).transpose()?.unwrap_or(0),
    ))
}
