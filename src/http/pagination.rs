//! Offset pagination shared by the list endpoints (the Go service's shape).

use serde::Serialize;

use super::error::ApiError;
use crate::domain::validate::FieldErrors;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 1000;
pub const MAX_OFFSET: u64 = 10_000_000;

#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub offset: usize,
    pub limit: usize,
}

impl Paging {
    /// `limit` must be 1..=1000 (default 50) and `offset` 0..=10,000,000.
    pub fn from_params(limit: Option<u64>, offset: Option<u64>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::default();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        let offset = offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            errors.add("offset", format!("must be between 0 and {MAX_OFFSET}"));
        }
        errors
            .into_result(Self {
                offset: usize::try_from(offset).unwrap_or(usize::MAX),
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            })
            .map_err(ApiError::validation)
    }

    pub fn info(&self, total: usize) -> PageInfo {
        PageInfo {
            total_count: total,
            page: self.offset / self.limit + 1,
            page_size: self.limit,
            has_more: self.offset.saturating_add(self.limit) < total,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageInfo {
    pub total_count: usize,
    /// `offset / limit + 1`
    pub page: usize,
    pub page_size: usize,
    pub has_more: bool,
}
