//! Bad training data: each case exits 3 with one sentence on stderr that
//! names the file, line, column and value, and writes no artifact — a
//! previous artifact stays as it was.

use crate::common::{Test, simple_toml};

/// Train `csv` as `d.csv` (with `data_extra` in `[data]`): expect exit 3 and
/// exactly `error: {msg}`, no artifact; then again over an existing
/// artifact, which must be left untouched and alone in its folder.
#[track_caller]
fn bad(data_extra: &str, csv: impl AsRef<[u8]>, msg: &str) {
    let t = Test::new()
        .toml(&simple_toml(data_extra))
        .file("d.csv", csv)
        .args(["train"]);
    t.run().error(3, msg);
    assert!(!t.exists("out/m.json"), "an artifact was written");

    t.write("out/m.json", "previous artifact");
    t.run().error(3, msg);
    assert_eq!(t.read("out/m.json"), "previous artifact");
    let left: Vec<_> = std::fs::read_dir(t.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["m.json"], "temporary files left behind");
}

#[test]
fn non_numeric_cell() {
    bad(
        "",
        "a,b,y\n1,2,3\n12a,3,4\n2,2,2\n",
        "d.csv:3: column \"a\": \"12a\" is not a number; fix the cell, or list the column in data.categorical",
    );
}

#[test]
fn nan_cell() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3,NaN\n2,2,2\n",
        "d.csv:3: column \"y\": \"NaN\" is not a number; list \"NaN\" in data.na_values to read it as a missing cell",
    );
}

#[test]
fn infinite_cell() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,-inf,4\n2,2,2\n",
        "d.csv:3: column \"b\": \"-inf\" is not a finite number; remove or fix the row",
    );
}

#[test]
fn overflowing_number_is_not_finite() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3,4\n1e999,2,2\n",
        "d.csv:4: column \"a\": \"1e999\" is not a finite number; remove or fix the row",
    );
}

#[test]
fn ragged_row_short() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3\n2,2,2\n",
        "d.csv:3: expected 3 fields as in the header, found 2; fix the row",
    );
}

#[test]
fn ragged_row_long() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3,4\n2,2,2,9\n",
        "d.csv:4: expected 3 fields as in the header, found 4; fix the row",
    );
}

#[test]
fn duplicated_column() {
    bad(
        "",
        "a,b,a,y\n1,2,1,3\n2,3,2,4\n",
        "d.csv:1: column \"a\" appears twice (fields 1 and 3); rename one",
    );
}

#[test]
fn missing_target_column() {
    bad(
        "",
        "a,b,z\n1,2,3\n2,3,4\n",
        "d.csv:1: target column \"y\" not in the header; its columns are: a, b, z",
    );
}

#[test]
fn missing_target_column_with_a_near_name() {
    bad(
        "",
        "a,b,yy\n1,2,3\n2,3,4\n",
        "d.csv:1: target column \"y\" not in the header; did you mean \"yy\"?",
    );
}

#[test]
fn missing_feature_column_suggests_the_nearest() {
    bad(
        "features = [\"a\", \"sqtf\"]",
        "a,sqft,y\n1,2,3\n2,3,4\n",
        "d.csv:1: feature column \"sqtf\" not in the header; did you mean \"sqft\"?",
    );
}

#[test]
fn missing_feature_columns_are_all_named() {
    bad(
        "features = [\"aa\", \"bee\"]",
        "a,bees,y\n1,2,3\n",
        "d.csv:1: feature columns \"aa\", \"bee\" not in the header; its columns are: a, bees, y",
    );
}

#[test]
fn empty_file() {
    bad(
        "",
        "",
        "d.csv is empty; it needs a header row and at least one data row",
    );
}

#[test]
fn header_only() {
    bad(
        "",
        "a,b,y\n",
        "d.csv has a header row but no data rows; add data",
    );
}

#[test]
fn constant_target() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3,3\n3,2,3\n5,1,3\n",
        "d.csv: target \"y\" is constant (3 in every training row); there is nothing to learn",
    );
}

#[test]
fn non_utf8_numeric_cell() {
    bad(
        "",
        b"a,b,y\n1,2,3\n\xff\xfe,3,4\n2,2,2\n",
        "d.csv:3: column \"a\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
    );
}

#[test]
fn non_utf8_categorical_cell() {
    bad(
        "categorical = [\"c\"]",
        b"a,c,y\n1,p,3\n2,caf\xe9,4\n2,q,2\n",
        "d.csv:3: column \"c\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
    );
}

#[test]
fn empty_feature_cell_under_missing_error() {
    bad(
        "missing = \"error\"",
        "a,b,y\n1,2,3\n2,,4\n2,2,2\n",
        "d.csv:3: column \"b\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\"",
    );
}

#[test]
fn empty_target_cell_under_missing_error() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,3,4\n2,2, \n",
        "d.csv:4: column \"y\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\"",
    );
}

#[test]
fn empty_categorical_cell_under_missing_error() {
    bad(
        "categorical = [\"c\"]",
        "a,c,y\n1,p,3\n2,,4\n2,q,2\n",
        "d.csv:3: column \"c\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\"",
    );
}

#[test]
fn rank_deficient_duplicate_column() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,4,4\n3,6,2\n5,10,7\n",
        "d.csv: the design is rank deficient: columns \"a\", \"b\" duplicate each other (up to scale and shift); drop one of them from data.features",
    );
}

#[test]
fn rank_deficient_constant_column() {
    bad(
        "",
        "a,b,y\n1,7,3\n2,7,4\n3,7,2\n5,7,7\n",
        "d.csv: the design is rank deficient: column \"b\" is constant, so it duplicates the intercept; drop it from data.features",
    );
}

#[test]
fn rank_deficient_three_collinear_columns() {
    // c = a + b
    bad(
        "",
        "a,b,c,d,y\n1,0.5,1.5,9,1\n2,1,3,1,2\n3,4,7,2,4\n5,1,6,3,2\n1,1,2,5,9\n6,2,8,1,1\n",
        "d.csv: the design is rank deficient: columns \"a\", \"b\", \"c\" are exactly collinear; drop one of them from data.features",
    );
}

#[test]
fn rank_deficient_level_and_numeric_column() {
    // b is 1 exactly on the rows of level q: the same column as c=q.
    bad(
        "categorical = [\"c\"]",
        "a,c,b,y\n1,p,0,3\n2,q,1,4\n3,p,0,2\n5,q,1,7\n4,p,0,1\n",
        "d.csv: the design is rank deficient: columns \"c=q\", \"b\" duplicate each other (up to scale and shift); drop one of them from data.features",
    );
}

#[test]
fn too_few_rows_for_the_coefficients() {
    bad(
        "",
        "a,b,y\n1,2,3\n2,1,5\n",
        "d.csv: 2 training rows cannot determine 3 coefficients; add rows or drop features",
    );
}

#[test]
fn crlf_file_names_the_right_line() {
    bad(
        "",
        "a,b,y\r\n1,2,3\r\n1,x,4\r\n2,2,2\r\n",
        "d.csv:3: column \"b\": \"x\" is not a number; fix the cell, or list the column in data.categorical",
    );
}

#[test]
fn crlf_file_with_quotes_names_the_right_line() {
    bad(
        "",
        "a,b,y\r\n\"1\",2,3\r\n1,\"x\",4\r\n2,2,2\r\n",
        "d.csv:3: column \"b\": \"x\" is not a number; fix the cell, or list the column in data.categorical",
    );
}

#[test]
fn line_numbers_count_newlines_inside_quoted_fields() {
    // The record on line 2 spans lines 2-3, so the bad cell is on line 4.
    bad(
        "categorical = [\"c\"]",
        "a,c,y\n1,\"x, y\nz\",3\n2x,q,5\n",
        "d.csv:4: column \"a\": \"2x\" is not a number; fix the cell, or list the column in data.categorical",
    );
}

#[test]
fn excluded_column_that_does_not_exist() {
    bad(
        "exclude = [\"idd\"]",
        "id,a,y\n1,2,3\n2,3,4\n",
        "d.csv:1: excluded column \"idd\" not in the header; did you mean \"id\"?",
    );
}
