//! `#[testkit::both_backends]` (re-exported by `testkit`): an attribute, not a
//! `macro_rules!` block, so that rustfmt formats the test bodies like any other
//! function.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn};

/// Runs an `async fn name(backend: Backend)` once per backend, as the tests
/// `name::sqlite` and `name::postgres`:
///
/// ```text
/// #[testkit::both_backends]
/// async fn health_answers(backend: Backend) {
///     let shop = Shop::start(backend).await;
///     // ...
/// }
/// ```
#[proc_macro_attribute]
pub fn both_backends(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "both_backends takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let function = parse_macro_input!(item as ItemFn);
    if function.sig.asyncness.is_none() || function.sig.inputs.len() != 1 {
        return syn::Error::new_spanned(
            &function.sig,
            "both_backends runs an `async fn name(backend: testkit::Backend)`",
        )
        .to_compile_error()
        .into();
    }
    let name = &function.sig.ident;
    quote! {
        #function

        mod #name {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::#name(::testkit::Backend::Sqlite).await
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::#name(::testkit::Backend::Postgres).await
            }
        }
    }
    .into()
}
