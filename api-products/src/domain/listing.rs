//! What `GET /api/products` asks for (contract v1.3), parsed once: a page, a
//! search, an order and a set of ids, every invalid field named in one 422.

use server::{ApiError, Fields, Page};
use shared::ProductsQuery;

/// Longest search term, in characters.
pub const MAX_QUERY: usize = 100;
/// Most ids one list may ask for (a cart's thumbnails: a cart holds at most
/// 100 different products).
pub const MAX_IDS: usize = 100;

/// A list request, every field valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub page: Page,
    pub search: Option<SearchTerm>,
    pub sort: Sort,
    pub ids: Option<IdList>,
    /// `include_hidden=true`: granted to admins only (the route asks).
    pub wants_hidden: bool,
}

impl Listing {
    pub fn parse(query: &ProductsQuery) -> Result<Self, ApiError> {
        let page = Page::parse(query.limit, query.offset)?;
        let mut fields = Fields::default();
        let search = fields.check("q", SearchTerm::parse(query.q.as_deref()));
        let sort = fields.check("sort", Sort::parse(query.sort.as_deref()));
        let ids = match query.ids.as_deref() {
            Some(raw) => fields.check("ids", IdList::parse(raw).map(Some)),
            None => Some(None),
        };
        match (search, sort, ids) {
            (Some(search), Some(sort), Some(ids)) => Ok(Self {
                page,
                search,
                sort,
                ids,
                wants_hidden: query.include_hidden == Some(true),
            }),
            _ => Err(fields.into_error()),
        }
    }

    /// What identifies the answer among the shoppers' lists: what was parsed
    /// (the limit capped, the search trimmed and lowercase), never the raw
    /// query, so requests that ask the same share one answer.
    pub fn key(&self) -> String {
        let ids = match &self.ids {
            Some(ids) => {
                let ids: Vec<String> = ids.0.iter().map(i64::to_string).collect();
                format!("ids={}", ids.join(","))
            }
            None => String::new(),
        };
        let q = self.search.as_ref().map_or("", SearchTerm::as_str);
        let (limit, offset, sort) = (self.page.limit, self.page.offset, self.sort.as_str());
        format!("list|{limit}|{offset}|{sort}|{ids}|{q}")
    }
}

/// The search of `?q=`: the lowercase text to find in names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerm(String);

impl SearchTerm {
    /// `None` for an absent or blank `q` (everything matches).
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, String> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.chars().count() > MAX_QUERY {
            return Err(format!("must be at most {MAX_QUERY} characters"));
        }
        Ok((!raw.is_empty()).then(|| Self(raw.to_lowercase())))
    }

    /// The lowercase term.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A LIKE pattern (escape character `\`) matching names that contain the
    /// term literally: `%`, `_` and `\` in it are escaped.
    pub fn like_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.0.len() + 2);
        pattern.push('%');
        for c in self.0.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

/// The order of `?sort=`; ties always by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    /// `id`, the default: the order products were added in.
    Id,
    /// `-id`: newest first.
    IdDesc,
    /// `price`: cheapest first.
    Price,
    /// `-price`: dearest first.
    PriceDesc,
    /// `name`: by the lowercase name, in Unicode code point order.
    Name,
    /// `-name`.
    NameDesc,
}

impl Sort {
    const ALL: [Self; 6] = [
        Self::Id,
        Self::IdDesc,
        Self::Price,
        Self::PriceDesc,
        Self::Name,
        Self::NameDesc,
    ];

    /// Absent or empty: by id.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.unwrap_or("") {
            "" => Ok(Self::Id),
            raw => Self::ALL
                .into_iter()
                .find(|sort| sort.as_str() == raw)
                .ok_or_else(|| "must be one of id, -id, price, -price, name, -name".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::IdDesc => "-id",
            Self::Price => "price",
            Self::PriceDesc => "-price",
            Self::Name => "name",
            Self::NameDesc => "-name",
        }
    }
}

/// The ids of `?ids=`: 1 to [`MAX_IDS`] whole numbers, comma-separated,
/// held sorted and once each. A number no product can have (0, or one past
/// what an id holds) is kept out: unknown ids are left out, never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList(Vec<i64>);

impl IdList {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let items: Vec<&str> = raw.split(',').collect();
        if items.len() > MAX_IDS {
            return Err(format!("must name at most {MAX_IDS} products"));
        }
        if !items
            .iter()
            .all(|item| !item.is_empty() && item.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err("must be product ids separated by commas".into());
        }
        let mut ids: Vec<i64> = items
            .iter()
            .filter_map(|item| item.parse().ok())
            .filter(|id| *id > 0)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(Self(ids))
    }

    pub fn as_slice(&self) -> &[i64] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `query` as a query string would give it (no escapes in these).
    fn listing(query: &str) -> Result<Listing, Vec<String>> {
        let fields = query
            .split('&')
            .map(|pair| pair.split_once('=').unwrap())
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
            .collect();
        let query: ProductsQuery =
            serde_json::from_value(serde_json::Value::Object(fields)).unwrap();
        Listing::parse(&query).map_err(|e| match e {
            ApiError::Validation(fields) => fields.into_keys().collect(),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn search_escapes_wildcards() {
        let term = SearchTerm::parse(Some(" 100%_Co\\ ")).unwrap().unwrap();
        assert_eq!(term.like_pattern(), "%100\\%\\_co\\\\%");
        assert_eq!(SearchTerm::parse(Some("  ")).unwrap(), None);
        assert!(SearchTerm::parse(Some(&"x".repeat(101))).is_err());
    }

    #[test]
    fn sorts_by_the_contracts_names_and_by_id_unless_told() {
        for sort in Sort::ALL {
            assert_eq!(Sort::parse(Some(sort.as_str())), Ok(sort));
        }
        assert_eq!(Sort::parse(None), Ok(Sort::Id));
        assert_eq!(Sort::parse(Some("")), Ok(Sort::Id));
        for bad in ["price_asc", "Price", " price", "+price", "--id", "newest"] {
            assert!(Sort::parse(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_held_sorted_once_each_and_impossible_ones_left_out() {
        let ids = IdList::parse("12,3,12,0,99999999999999999999,7").unwrap();
        assert_eq!(ids.as_slice(), [3, 7, 12]);
        let hundred: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
        assert_eq!(IdList::parse(&hundred.join(",")).unwrap().0.len(), 100);
        let too_many = format!("{},1", hundred.join(","));
        assert!(IdList::parse(&too_many).is_err());
        for bad in ["", ",", "1,", "1,,2", "a", "1 ,2", "-1", "1.5", "+1"] {
            assert!(IdList::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_invalid_field_is_named_and_equal_asks_share_a_key() {
        assert_eq!(
            listing("sort=cheap&ids=x&q=a").unwrap_err(),
            ["ids", "sort"]
        );
        let one = listing("q= Mug&ids=2,1&limit=5000&sort=-price").unwrap();
        let other = listing("ids=1,2,1&sort=-price&q=mug&limit=1000&offset=0").unwrap();
        assert_eq!(one.key(), other.key());
        assert_ne!(
            one.key(),
            listing("q=mug&limit=1000&ids=1,2").unwrap().key()
        );
        assert!(listing("include_hidden=true").unwrap().wants_hidden);
        let none = listing("ids=0&limit=5").unwrap();
        assert_ne!(
            none.key(),
            listing("limit=5").unwrap().key(),
            "no ids, or none"
        );
    }
}
