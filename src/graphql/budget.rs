//! One complexity budget for a whole batched request. The schema's own limit applies to each
//! operation alone, so a batch of many operations each just under it multiplied the cost of
//! one request; here the operations of a batch draw on one shared budget as each is validated.
//!
//! The budget is an async-graphql extension, and any extension sends every field through
//! async-graphql's slower, instrumented path; so only the schema that runs batches has it
//! (see `build_schema`), and single operations keep the fast path.

use super::error::code;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Complexity points left to the operations of one batch.
#[derive(Debug)]
pub struct BatchBudget {
    limit: usize,
    spent: AtomicUsize,
}

impl BatchBudget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(BatchBudget {
            limit,
            spent: AtomicUsize::new(0),
        })
    }

    /// Takes `points` from the budget, or refuses without taking any.
    fn spend(&self, points: usize) -> Result<(), ServerError> {
        let mut spent = self.spent.load(Ordering::Relaxed);
        loop {
            let total = spent.saturating_add(points);
            if total > self.limit {
                let mut error = ServerError::new(
                    format!(
                        "The batch is too complex: with this operation (complexity {points}) its \
                         operations cost {total}, over the request's limit of {}.",
                        self.limit
                    ),
                    None,
                );
                error
                    .extensions
                    .get_or_insert_with(Default::default)
                    .set("code", code::VALIDATION_FAILED);
                return Err(error);
            }
            match self
                .spent
                .compare_exchange(spent, total, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => spent = now,
            }
        }
    }
}

/// Charges each validated operation to the request's `Arc<BatchBudget>`, when it has one.
pub struct BatchBudgetExtension;

impl ExtensionFactory for BatchBudgetExtension {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Charge)
    }
}

struct Charge;

#[async_graphql::async_trait::async_trait]
impl Extension for Charge {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Some(budget) = ctx.data_opt::<Arc<BatchBudget>>() {
            budget.spend(result.complexity).map_err(|e| vec![e])?;
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_shared_and_a_refusal_takes_nothing() {
        let budget = BatchBudget::new(100);
        assert!(budget.spend(60).is_ok());
        let refused = budget.spend(50).unwrap_err();
        assert!(refused.message.contains("cost 110"), "{}", refused.message);
        assert!(budget.spend(40).is_ok());
        assert!(budget.spend(1).is_err());
        assert!(BatchBudget::new(10).spend(usize::MAX).is_err());
    }
}
