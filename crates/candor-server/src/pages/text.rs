//! The pages' words. Every string a page shows comes from a Fluent message file, one per
//! language (`messages/en.ftl`, `messages/zh-CN.ftl`), none from a template or the code. The
//! language is the one the person chose with the switch (a cookie), else the best of their
//! browser's `Accept-Language`, else English.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the pages speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// Its BCP 47 tag, as `lang` attributes and the switch name it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a tag asks for, if the pages speak it (`zh`, `zh-CN`, `zh-Hans-CN` and
    /// `en-GB` all count).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::ZhCn),
            _ => None,
        }
    }

    /// The best language of an `Accept-Language` header: the spoken one of highest weight, the
    /// first of equal weights; English when none is spoken.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Lang::parse) else { continue };
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .filter(|q| q.is_finite())
                .unwrap_or(1.0);
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map_or(Lang::En, |(_, lang)| lang)
    }

    /// Its message file.
    pub fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("../../messages/en.ftl"),
            Lang::ZhCn => include_str!("../../messages/zh-CN.ftl"),
        }
    }

    fn bundle(self) -> &'static Bundle {
        static EN: OnceLock<Bundle> = OnceLock::new();
        static ZH: OnceLock<Bundle> = OnceLock::new();
        match self {
            Lang::En => EN.get_or_init(|| bundle(Lang::En)),
            Lang::ZhCn => ZH.get_or_init(|| bundle(Lang::ZhCn)),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

/// The bundle of a language's messages. A message file that does not parse keeps what did
/// (a test holds both files free of errors).
fn bundle(lang: Lang) -> Bundle {
    let resource = FluentResource::try_new(lang.source().to_owned()).unwrap_or_else(|(partial, _)| partial);
    let id: unic_langid::LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No invisible isolation marks around the values put in: the pages set `dir` themselves.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(language = lang.tag(), errors = errors.len(), "duplicate messages in a message file");
    }
    bundle
}

/// A value put into a message.
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

/// A page's words in one language.
#[derive(Clone, Copy, Debug)]
pub struct Text {
    pub lang: Lang,
}

impl Text {
    pub fn new(lang: Lang) -> Text {
        Text { lang }
    }

    /// A message with no values in it; its id when there is no such message (a test holds every
    /// id the pages use present in every language).
    pub fn get(&self, id: &str) -> String {
        self.with(id, &[])
    }

    /// A message with values put in by name.
    pub fn with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.lookup(id, args).unwrap_or_else(|| id.to_owned())
    }

    /// A message if there is one by that id: for words that exist for some values only (a
    /// kind of account the messages name, an error code they explain).
    pub fn lookup(&self, id: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
        let bundle = self.lang.bundle();
        let pattern = bundle.get_message(id)?.value()?;
        let mut values = FluentArgs::new();
        for (name, arg) in args {
            match arg {
                Arg::Text(t) => values.set(*name, FluentValue::from(*t)),
                Arg::Number(n) => values.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&values), &mut errors);
        Some(text.into_owned())
    }

    /// A value of a named set (an account kind, a status, a purpose) in words: the message
    /// `{set}-{value}`, or the value itself for one the messages do not name.
    pub fn named(&self, set: &str, value: &str) -> String {
        self.lookup(&format!("{set}-{value}"), &[]).unwrap_or_else(|| value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_s_languages_are_weighed() {
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("fr-FR, zh-Hans;q=0.5, en;q=0.4"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("en;q=0.2, zh;q=0.7"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("de, fr"), Lang::En, "none spoken: English");
        assert_eq!(Lang::negotiate("zh;q=0, en;q=0.1"), Lang::En, "q=0 means not this one");
        assert_eq!(Lang::negotiate(";;;,,q=abc,\u{0}"), Lang::En, "garbage is no choice");
    }

    #[test]
    fn both_message_files_parse_and_name_the_same_messages() {
        let ids = |lang: Lang| -> std::collections::BTreeSet<String> {
            let resource = FluentResource::try_new(lang.source().to_owned())
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", lang.tag()));
            resource
                .entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect()
        };
        let (en, zh) = (ids(Lang::En), ids(Lang::ZhCn));
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(only_en.is_empty() && only_zh.is_empty(), "only in en: {only_en:?}; only in zh-CN: {only_zh:?}");
        assert!(en.len() > 50, "{} messages", en.len());
    }

    #[test]
    fn values_are_put_in_by_name() {
        let t = Text::new(Lang::En);
        assert_eq!(t.with("score-of", &[("score", Arg::Number(640))]), "Your score is 640");
        assert_eq!(Text::new(Lang::ZhCn).with("score-of", &[("score", Arg::Number(640))]), "您的评分是 640");
        assert_eq!(t.named("kind", "telecom"), "Telecom");
        assert_eq!(t.named("kind", "no-such-kind"), "no-such-kind");
    }
}
