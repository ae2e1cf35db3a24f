//! The model as one SQL SELECT of CASE expressions.

use candor_scorecard::{BinRule, Characteristic, Kind, Model, NOT_SCORED};

/// How identifiers are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Double quotes: PostgreSQL, DuckDB, SQLite, Trino, Oracle.
    Ansi,
    /// Backticks: Spark SQL, Databricks, Hive, MySQL.
    Spark,
}

impl std::str::FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Dialect, String> {
        match s {
            "ansi" | "postgres" | "postgresql" | "duckdb" | "sqlite" | "trino" => Ok(Dialect::Ansi),
            "spark" | "databricks" | "hive" | "mysql" => Ok(Dialect::Spark),
            _ => Err(format!("unknown SQL dialect `{s}` (expected ansi or spark)")),
        }
    }
}

fn ident(name: &str, d: Dialect) -> String {
    match d {
        Dialect::Ansi => format!("\"{}\"", name.replace('"', "\"\"")),
        Dialect::Spark => format!("`{}`", name.replace('`', "``")),
    }
}

fn string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A number as SQL text. Rust prints the shortest text that reads back as the same `f64`, and
/// never in exponent form, so every engine parses the same value.
fn number(x: f64) -> String {
    format!("{x}")
}

/// A real constant, always with a decimal point so integer arithmetic is never chosen.
fn real(x: f64) -> String {
    format!("{x:?}")
}

fn case(c: &Characteristic, d: Dialect) -> String {
    let col = ident(&c.name, d);
    let mut arms = Vec::new();
    let mut fallback = 0;
    let mut missing = 0;
    match c.kind {
        Kind::Numeric => {
            let mut ranges: Vec<(Option<f64>, i32)> = Vec::new();
            for b in &c.bins {
                match &b.rule {
                    BinRule::Missing => missing = b.points,
                    BinRule::Special { value } => {
                        arms.push(format!("WHEN {col} = {} THEN {}", number(*value), b.points))
                    }
                    BinRule::Range { lower, upper } => {
                        ranges.push((*lower, b.points));
                        if upper.is_none() {
                            fallback = b.points;
                        }
                    }
                    BinRule::Categories { .. } => {}
                }
            }
            ranges.sort_by(|a, b| a.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY)));
            // Each range is `value < next range's lower`, tested in ascending order.
            for w in ranges.windows(2) {
                if let Some(upper) = w[1].0 {
                    arms.push(format!("WHEN {col} < {} THEN {}", number(upper), w[0].1));
                }
            }
        }
        Kind::Categorical => {
            for b in &c.bins {
                match &b.rule {
                    BinRule::Missing => missing = b.points,
                    BinRule::Categories { categories, other } => {
                        if *other {
                            fallback = b.points;
                        }
                        if !categories.is_empty() {
                            let list: Vec<String> = categories.iter().map(|s| string(s)).collect();
                            arms.push(format!("WHEN TRIM({col}) IN ({}) THEN {}", list.join(", "), b.points));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    // NaN and infinities are missing, as in the engine; engines that have them sort NaN above
    // every number, so one range test catches all three.
    let missing_test = match c.kind {
        Kind::Numeric => {
            format!("{col} IS NULL OR NOT ({col} BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)")
        }
        // Text reads as missing when empty, NA, NaN or null, and is compared trimmed, as the
        // tables Candor reads do.
        Kind::Categorical => format!("{col} IS NULL OR UPPER(TRIM({col})) IN ('', 'NA', 'NAN', 'NULL')"),
    };
    let mut s = format!("CASE WHEN {missing_test} THEN {missing}");
    for a in arms {
        s.push_str("\n      ");
        s.push_str(&a);
    }
    s.push_str(&format!("\n      ELSE {fallback} END"));
    s
}

/// The test that a row meets every minimum scoring criterion: each column a finite number
/// (NULL, NaN and infinities fail, as missing values do in the engine) within its bounds.
fn scorable(model: &Model, d: Dialect) -> String {
    let tests: Vec<String> = model
        .minimum
        .iter()
        .map(|c| {
            let col = ident(&c.column, d);
            let low = c.at_least.map_or("-1.7976931348623157e308".to_owned(), number);
            let high = c.at_most.map_or("1.7976931348623157e308".to_owned(), number);
            format!("{col} BETWEEN {low} AND {high}")
        })
        .collect();
    format!("CASE WHEN {} THEN 1 ELSE 0 END", tests.join(" AND "))
}

/// One SELECT scoring every row of `table`: the id column if the model has one, then `score`
/// (integer points, clamped) and `pd`. Numeric characteristics must be numeric columns (NULL
/// when missing); categorical ones text columns. A model with minimum scoring criteria also
/// gives `not_scored`: NULL for a row it scores, the reason code `not_enough_history` (with
/// `score` and `pd` NULL) for a row that fails them.
pub fn to_sql(model: &Model, table: &str, dialect: Dialect) -> String {
    let s = &model.scaling;
    let id = model.id_column.as_deref().map(|i| format!("{}, ", ident(i, dialect))).unwrap_or_default();
    let parts: Vec<String> = model.characteristics.iter().map(|c| format!("    ({})", case(c, dialect))).collect();
    // With minimum scoring criteria, the innermost SELECT also tests them, the middle one passes
    // the test on, and an outer one withholds the score of a row that fails.
    let test = (!model.minimum.is_empty()).then(|| scorable(model, dialect));
    let tested = test.as_ref().map_or(String::new(), |t| format!(",\n    {t} AS candor_scorable"));
    let passed = if test.is_some() { "  candor_scorable,\n" } else { "" };
    let scored = format!(
        "-- Candor scorecard (format {fmt} version {ver}), trained on {digest}.\n\
         -- score = total points clamped to [{min}, {max}]; pd = 1 / (1 + exp((total - {offset}) / {factor})).\n\
         SELECT {id}\n  CASE WHEN total_points < {min} THEN {min} WHEN total_points > {max} THEN {max} ELSE total_points END AS score,\n\
         {passed}  1.0 / (1.0 + EXP((total_points - {offset}) / {factor})) AS pd\n\
         FROM (\n  SELECT {id}\n{sum}\n    AS total_points{tested}\n  FROM {table}\n) AS candor_scored",
        fmt = model.format,
        ver = model.format_version,
        digest = model.training.data_digest,
        min = s.min_score,
        max = s.max_score,
        offset = real(s.offset()),
        factor = real(s.factor()),
        sum = parts.join("\n    +\n"),
        table = table.split('.').map(|p| ident(p, dialect)).collect::<Vec<_>>().join("."),
    );
    if test.is_none() {
        return scored;
    }
    let (header, body): (Vec<&str>, Vec<&str>) = scored.lines().partition(|l| l.starts_with("--"));
    format!(
        "{}\n-- Rows failing the minimum scoring criteria ({}) get no score and not_scored = '{NOT_SCORED}'.\n\
         SELECT {id}\n  CASE WHEN candor_scorable = 1 THEN score END AS score,\n  \
         CASE WHEN candor_scorable = 1 THEN pd END AS pd,\n  \
         CASE WHEN candor_scorable = 1 THEN NULL ELSE {} END AS not_scored\n\
         FROM (\n{}\n) AS candor_minimum",
        header.join("\n"),
        model.minimum.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", "),
        string(NOT_SCORED),
        body.join("\n"),
    )
}
