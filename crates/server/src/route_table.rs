//! The shape of a listener's route table: each route's method, path and
//! what it needs of its caller, declared once. The table builds the router
//! (every route behind the listener's guard) and is what the role × route
//! tests walk, so a route cannot exist without a declared need.

use liaison_core::roles::Permission;

/// What a route needs of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing: anyone may ask (the OpenAPI document, the login page).
    Nobody,
    /// A signed-in caller whose role allows this; checked by the guard
    /// before the handler or any extractor runs.
    Role(Permission),
    /// A signed-in caller whose role may open a case of the kind the request
    /// names (the handler checks it once it knows the kind).
    OpenTheKind,
    /// A signed-in caller whose role may act on the case the path names, by
    /// its kind (the handler checks it once it read the case).
    ActOnTheCase,
    /// A signed-in caller whose role may act on some legal case or note
    /// (attachment uploads, before any case names them).
    ActOnAnyCase,
}

impl Need {
    /// The permission the guard checks, if the route has a fixed one.
    pub fn fixed(self) -> Option<Permission> {
        match self {
            Need::Role(p) => Some(p),
            _ => None,
        }
    }
}

/// One declared route.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub need: Need,
}

/// The HTTP method of a table line (`get`, `post`, `delete`); anything else
/// fails the build, since the table is a constant.
// The panic can only happen while the compiler evaluates `ROUTES`.
#[allow(clippy::panic)]
pub const fn method_name(ident: &str) -> &'static str {
    match ident.as_bytes() {
        b"get" => "GET",
        b"post" => "POST",
        b"delete" => "DELETE",
        _ => panic!("a route table line names an unknown method"),
    }
}

/// Declares `ROUTES` and `table_router(state, add)`: each line is
/// `method "path", need => method_router;` and `guard(method_router, need,
/// state)` puts the route behind the listener's checks.
macro_rules! route_table {
    (state: $state:ty, guard: $guard:path; $( $method:ident $path:literal, $need:expr => $router:expr ;)*) => {
        /// Every route of this listener with what it needs of its caller.
        pub const ROUTES: &[$crate::route_table::Route] = &[
            $( $crate::route_table::Route {
                method: $crate::route_table::method_name(stringify!($method)),
                path: $path,
                need: $need,
            }, )*
        ];

        /// The router of the table; `add` puts each guarded route in it
        /// (`Router::route`, or a listener's variant such as TAXII's
        /// with and without the trailing slash).
        fn table_router(
            state: &$state,
            add: impl Fn(
                axum::Router<$state>,
                &'static str,
                axum::routing::MethodRouter<$state>,
            ) -> axum::Router<$state>,
        ) -> axum::Router<$state> {
            let router = axum::Router::new();
            $( let router = add(router, $path, $guard($router, $need, state)); )*
            router
        }
    };
}
pub(crate) use route_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_in_capitals() {
        assert_eq!(method_name("get"), "GET");
        assert_eq!(method_name("post"), "POST");
        assert_eq!(method_name("delete"), "DELETE");
        assert_eq!(
            Need::Role(Permission::ReadCases).fixed(),
            Some(Permission::ReadCases)
        );
        assert_eq!(Need::ActOnTheCase.fixed(), None);
    }
}
