//! The report for people, in English or Chinese.

use std::fmt::Write as _;

use super::{Indication, Report, SignatureReport};

/// Report language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    English,
    Chinese,
}

struct Labels {
    verdict: [&'static str; 3],
    document: &'static str,
    signature: &'static str,
    signer: &'static str,
    serial: &'static str,
    fingerprint: &'static str,
    time: &'static str,
    reason: &'static str,
    location: &'static str,
    certified: &'static str,
    revision: &'static str,
    whole: &'static str,
    partial: &'static str,
    changes: &'static str,
    permitted: &'static str,
    forbidden: &'static str,
    none: &'static str,
    warning: &'static str,
    pades_level: &'static str,
    document_timestamp: &'static str,
}

const ENGLISH: Labels = Labels {
    verdict: ["PASSED", "FAILED", "INDETERMINATE"],
    document: "Document",
    signature: "Signature",
    signer: "Signer",
    serial: "Certificate serial",
    fingerprint: "Certificate SHA-256",
    time: "Claimed signing time",
    reason: "Reason",
    location: "Location",
    certified: "Certification (DocMDP P)",
    revision: "Covers revision",
    whole: "the whole file",
    partial: "changes were appended after it",
    changes: "Changes after signing",
    permitted: "permitted",
    forbidden: "NOT permitted",
    none: "The document carries no signature.",
    warning: "Warning",
    pades_level: "PAdES level",
    document_timestamp: "document timestamp (proof of time, not a signer)",
};

const CHINESE: Labels = Labels {
    verdict: ["通过", "未通过", "无法确定"],
    document: "文档",
    signature: "签名",
    signer: "签名人",
    serial: "证书序列号",
    fingerprint: "证书 SHA-256 指纹",
    time: "声明的签名时间",
    reason: "签名原因",
    location: "签名地点",
    certified: "认证签名（DocMDP P）",
    revision: "覆盖的修订版本",
    whole: "覆盖整个文件",
    partial: "签名后文件有追加修改",
    changes: "签名后的修改",
    permitted: "允许",
    forbidden: "不允许",
    none: "文档不含任何签名。",
    warning: "提示",
    pades_level: "PAdES 级别",
    document_timestamp: "文档时间戳（时间证明，非签名人）",
};

fn verdict(labels: &Labels, indication: Indication) -> &'static str {
    match indication {
        Indication::TotalPassed => labels.verdict[0],
        Indication::TotalFailed => labels.verdict[1],
        Indication::Indeterminate => labels.verdict[2],
    }
}

/// Renders `report` for a terminal.
pub fn render(report: &Report, language: Language) -> String {
    let labels = match language {
        Language::English => &ENGLISH,
        Language::Chinese => &CHINESE,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} ({}) — {}",
        labels.document,
        verdict(labels, report.indication),
        indication_code(report.indication),
        report.summary
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "{}: {}", labels.warning, printable(warning));
    }
    if report.signatures.is_empty() {
        let _ = writeln!(out, "{}", labels.none);
    }
    for (index, signature) in report.signatures.iter().enumerate() {
        render_signature(&mut out, labels, index + 1, signature);
    }
    out
}

fn render_signature(out: &mut String, labels: &Labels, index: usize, signature: &SignatureReport) {
    let sub = signature
        .sub_indication
        .map(|s| {
            format!(
                " / {}",
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "\n{} {index} \"{}\": {} ({}{sub})",
        labels.signature,
        printable(&signature.field),
        verdict(labels, signature.indication),
        indication_code(signature.indication)
    );
    for message in &signature.messages {
        let _ = writeln!(out, "  ! {}", printable(message));
    }
    let lines = [
        (labels.signer, signature.signer.clone()),
        (labels.serial, signature.serial.clone()),
        (labels.fingerprint, signature.sha256_fingerprint.clone()),
        (labels.time, signature.signing_time.clone()),
        (labels.reason, signature.reason.clone()),
        (labels.location, signature.location.clone()),
        (
            labels.certified,
            signature.certification_level.map(|p| p.to_string()),
        ),
        (
            labels.pades_level,
            match (&signature.pades_level, signature.kind.as_str()) {
                (Some(level), _) => Some(level.clone()),
                (None, "DocTimeStamp") => Some(labels.document_timestamp.to_string()),
                (None, _) => None,
            },
        ),
    ];
    for (label, value) in lines {
        if let Some(value) = value {
            let _ = writeln!(out, "  {label}: {}", printable(&value));
        }
    }
    let coverage = if signature.covers_whole_file {
        labels.whole
    } else {
        labels.partial
    };
    let _ = writeln!(
        out,
        "  {}: {} ({coverage})",
        labels.revision, signature.revision
    );
    if !signature.modifications.is_empty() {
        let _ = writeln!(out, "  {}:", labels.changes);
        for change in &signature.modifications {
            let mark = if change.permitted {
                labels.permitted
            } else {
                labels.forbidden
            };
            let _ = writeln!(out, "    - {} [{mark}]", printable(&change.description));
        }
    }
}

/// Text from the file, made safe for a terminal: control characters (escape sequences, line
/// breaks that could forge a verdict line) are shown escaped.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn indication_code(indication: Indication) -> &'static str {
    match indication {
        Indication::TotalPassed => "TOTAL-PASSED",
        Indication::TotalFailed => "TOTAL-FAILED",
        Indication::Indeterminate => "INDETERMINATE",
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_cannot_forge_lines_or_drive_the_terminal() {
        assert_eq!(
            printable("ok\nDocument: PASSED\u{1b}[2J"),
            "ok\\nDocument: PASSED\\u{1b}[2J"
        );
        assert_eq!(printable("新乡 seal"), "新乡 seal");
    }
}
