//! Transaction endpoints. No public route exists: these are the dashboard `/v1/ui/transactions*` routes.

use serde::Deserialize;

use super::plans::more_pages;
use super::{ApiError, Routes, SolvaPayClient};
use crate::model::rows::Rows;
use crate::model::transaction::{
    IsoDate, StatsWire, TransactionKind, TransactionStatus, TransactionWire,
};

/// Rows per page when scanning the list for a reference.
const SCAN_PAGE: u32 = 100;
/// Pages scanned before giving up (the 1000 most recent transactions at SolvaPay's full page size).
const SCAN_PAGES: u32 = 10;

/// Filters of `GET /v1/ui/transactions`.
#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    /// Page size.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u32,
    /// Status filter.
    pub status: Option<TransactionStatus>,
    /// Type filter.
    pub transaction_type: Option<TransactionKind>,
    /// Earliest date.
    pub from: Option<IsoDate>,
    /// Latest date.
    pub to: Option<IsoDate>,
}

/// One page of transactions.
#[derive(Debug, Clone)]
pub struct TransactionPage {
    /// The rows.
    pub transactions: Vec<TransactionWire>,
    /// Total matching rows, when reported.
    pub total: Option<u64>,
    /// Rows SolvaPay sent that could not be read (skipped), one line each.
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneBody {
    Wrapped {
        #[serde(alias = "data")]
        transaction: TransactionWire,
    },
    Flat(TransactionWire),
    Nothing(serde::de::IgnoredAny),
}

impl SolvaPayClient {
    /// `GET /v1/ui/transactions?limit&offset&status&transactionType&fromDate&toDate`, the date
    /// bounds sent as instants (see [`IsoDate::to_bound`]).
    pub async fn list_transactions(
        &self,
        q: &TransactionQuery,
    ) -> Result<TransactionPage, ApiError> {
        let mut query = vec![
            ("limit", q.limit.to_string()),
            ("offset", q.offset.to_string()),
        ];
        let optional = [
            ("status", q.status.map(|s| s.as_str().to_owned())),
            (
                "transactionType",
                q.transaction_type.map(|t| t.as_str().to_owned()),
            ),
            ("fromDate", q.from.map(IsoDate::from_bound)),
            ("toDate", q.to.map(IsoDate::to_bound)),
        ];
        query.extend(optional.into_iter().filter_map(|(k, v)| Some((k, v?))));
        let body: Rows<TransactionWire> = self.get(Routes::Ui, &["transactions"], &query).await?;
        Ok(TransactionPage {
            transactions: body.rows,
            total: body.total,
            warnings: body.warnings,
        })
    }

    /// A transaction by reference or id: the direct `GET /v1/ui/transactions/{ref}` first; when that
    /// answers 4xx (other than auth/rate limits), null or another transaction, the most recent
    /// transactions are scanned for a matching `reference`. `None` when neither finds it.
    pub async fn find_transaction(&self, key: &str) -> Result<Option<TransactionWire>, ApiError> {
        match self
            .get::<OneBody>(Routes::Ui, &["transactions", key], &[])
            .await
        {
            Ok(OneBody::Flat(t) | OneBody::Wrapped { transaction: t }) if t.matches(key) => {
                return Ok(Some(t));
            }
            Ok(_) => {}
            Err(e)
                if matches!(e.status(), Some(400..=499))
                    && !matches!(e.status(), Some(401 | 403 | 429)) => {}
            Err(e) => return Err(e),
        }
        let mut read = 0usize;
        for _ in 0..SCAN_PAGES {
            let q = TransactionQuery {
                limit: SCAN_PAGE,
                offset: u32::try_from(read).unwrap_or(u32::MAX),
                ..TransactionQuery::default()
            };
            let found = self.list_transactions(&q).await?;
            // Skipped (unreadable) rows were on the page too: they count as read.
            let returned = found.transactions.len() + found.warnings.len();
            read += returned;
            if let Some(t) = found.transactions.into_iter().find(|t| t.matches(key)) {
                return Ok(Some(t));
            }
            // The next offset is what was read: SolvaPay's page may be smaller than asked.
            if !more_pages(read, returned, SCAN_PAGE as usize, found.total) {
                break;
            }
        }
        Ok(None)
    }

    /// `GET /v1/ui/transactions/stats?fromDate&toDate`, both bounds sent as instants (see
    /// [`IsoDate::to_bound`]).
    pub async fn transaction_stats(
        &self,
        from: IsoDate,
        to: IsoDate,
    ) -> Result<StatsWire, ApiError> {
        let query = [("fromDate", from.from_bound()), ("toDate", to.to_bound())];
        let body: Option<StatsWire> = self
            .get(Routes::Ui, &["transactions", "stats"], &query)
            .await?;
        Ok(body.unwrap_or_default())
    }
}
