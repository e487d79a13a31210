//! The review token of an MCP Apps review form ([`crate::apps`]): sealed with the confirmation
//! states' secret, bound to the tool, the resolved arguments and amount, and the caller, expiring
//! with them, and spent on its first submit (across replicas when the state is shared), so a
//! form submits its move exactly once.

use rmcp::RoleServer;
use rmcp::model::SealOptions;
use rmcp::service::RequestContext;

use super::{Binding, Confirmer, Consent, Refusal, State, refused};
use crate::caller::Caller;
use crate::error::{ErrorKind, ToolError};

/// What tells a review token from an MRTR state sealed for the same call: neither opens as the
/// other.
const PURPOSE: &[u8] = b"mcp-apps-review\0";

impl Confirmer {
    /// A host that renders Apps: the first call gets a fresh token (answer with the review);
    /// a call carrying one goes ahead once the token opens for this very call and was not spent.
    pub(super) async fn review(
        &self,
        context: &RequestContext<RoleServer>,
        binding: &Binding<'_>,
        question: &str,
    ) -> Result<Consent, ToolError> {
        let caller = Caller::of(context).map(|c| &*c.name);
        let mut data = PURPOSE.to_vec();
        data.extend_from_slice(&binding.associated_data(caller));
        let Some(token) = crate::apps::submitted(context) else {
            let state = State {
                nonce: format!("{:032x}", rand::random::<u128>()),
            };
            let options = SealOptions::new().associated_data(&data).ttl(self.timeout);
            return self
                .codec
                .seal_json_with(&state, &options)
                .map(Consent::Review)
                .map_err(|e| {
                    ToolError::of(
                        ErrorKind::NotSent,
                        format!(
                            "Not done: the review could not be prepared ({e}); nothing was sent."
                        ),
                    )
                });
        };
        let state: State = self.codec.open_json_with(token, &data).map_err(|e| {
            // One answer for every failure to open; the detail goes to the log.
            tracing::debug!("review token refused: {e}");
            refused(Refusal::StaleReview, question)
        })?;
        if !self.spend(&state.nonce) {
            return Err(refused(Refusal::StaleReview, question));
        }
        self.spend_shared(&state.nonce, question, Refusal::StaleReview)
            .await?;
        Ok(Consent::Given)
    }
}
