//! `oneseal serve`: the seal service over HTTP(S), on its embedded defaults when unconfigured.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use oneseal::http::{AppState, router};
use oneseal::pki::SealSubject;
use oneseal::registry::Registry;
use oneseal::seal::DEVELOPMENT_MARKER;
use oneseal::service::ltv::{LtvLevel, LtvSettings, TimestampSource};
use oneseal::service::timestamping::{TsaClient, TsaSettings};
use oneseal::service::tsa::{TimeStampAuthority, TsaPolicy};
use oneseal::service::{Bureau, BureauSettings};
use oneseal::template::seal_image::{self, SealImage};

use super::config::{CommonArgs, Mode, Settings};

/// How long a shutdown waits for requests in flight (issuances included) to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
const DEVELOPMENT_ORGANIZATION: &str = "新乡经济技术开发区行政审批局（开发测试）";
const DEVELOPMENT_SEAL_NAME: &str = "新乡经济技术开发区行政审批局（开发测试）行政审批专用章";

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args.common, args.listen)?;
    super::init_logging(&settings.log_format, &settings.log_level)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("oneseal")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(settings))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    super::create_private_dir(&settings.data_dir)?;
    let seal_dir = seal_directory(&settings)?;
    let (signer, custody) = super::seal::load_checked_seal(&settings, &seal_dir)?;
    let seal_location = super::seal::location_of(&seal_dir)?;
    if settings.mode == Mode::Production {
        if settings.base_url.is_none() {
            bail!(
                "production needs base_url (ONESEAL_BASE_URL): the public address every licence's QR code carries, e.g. https://zwfw.example.gov.cn/verify/"
            );
        }
        if settings.tls.is_none() {
            tracing::warn!("production without TLS: terminate TLS in front of this service");
        }
        if settings.clock_offset_seconds != 0 {
            bail!(
                "production refuses a shifted clock: remove [workflow] clock_offset_seconds (ONESEAL_CLOCK_OFFSET_SECONDS)"
            );
        }
    } else if settings.clock_offset_seconds != 0 {
        tracing::warn!(
            offset_seconds = settings.clock_offset_seconds,
            "the bureau's clock is shifted (development only)"
        );
    }
    let image = match &settings.seal_image {
        Some(path) => {
            let png = super::read_limited(path, seal_image::MAX_PNG_BYTES, "read")?;
            Some(SealImage::from_png(&png).with_context(|| path.display().to_string())?)
        }
        None => None,
    };
    let registry = Registry::open(&settings.database_url)
        .await
        .context("cannot open the registry")?;
    let listener = std::net::TcpListener::bind(&settings.listen)
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr()?;
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let base_url = settings
        .base_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{address}/verify/"));
    let bureau = Bureau::new(
        registry.clone(),
        Arc::new(signer),
        image,
        BureauSettings {
            base_url,
            max_concurrent_verifications: settings.max_concurrent_verifications,
            verification_timeout: settings.verification_timeout,
            max_verify_bytes: settings.http.max_verify_bytes,
            clock_offset_ms: settings.clock_offset_seconds.saturating_mul(1000),
        },
    )
    .map_err(|e| anyhow::anyhow!("cannot start the bureau: {e}"))?
    .with_seal_loader(super::seal::seal_loader(&settings));
    bureau
        .adopt_seal(&seal_location, custody.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot bring the seal into service: {e}"))?;
    if settings.seal_keys.is_none() {
        publish_development_crl(&bureau, &seal_dir).await;
    }
    let bureau = match tsa_directory(&settings, &seal_dir)? {
        Some(dir) => bureau.with_tsa(load_tsa(&settings, &dir)?),
        None => {
            tracing::info!("no time-stamping authority: POST /tsa answers 404 ([tsa] keys)");
            bureau
        }
    };
    let ltv = ltv_settings(&settings, &bureau)?;
    let bureau = bureau.with_ltv(ltv);
    tracing::info!(
        level = bureau.ltv_level().name(),
        "licences are issued at this PAdES level"
    );
    let metrics = install_metrics()?;
    let bureau = Arc::new(bureau);
    let webhooks = oneseal::service::feed::spawn_webhook_delivery(
        Arc::clone(&bureau),
        oneseal::service::feed::DeliveryOptions::new(settings.webhook_max_backoff),
    );
    let state = AppState::new(Arc::clone(&bureau), settings.http.clone(), Some(metrics));
    oneseal::service::deadlines::spawn_deadline_sweep(Arc::clone(&bureau), settings.sweep_interval);
    oneseal::service::seals::spawn_seal_watch(Arc::clone(&bureau), settings.seal_check_interval);
    let limits = Arc::clone(&state.limits);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(60));
        loop {
            every.tick().await;
            limits.forget_idle();
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone()));
    tracing::info!(%address, mode = ?settings.mode, backend = ?registry.backend(), "listening");
    eprintln!("oneseal: listening on {scheme}://{address}");
    match &settings.tls {
        Some((certificate, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(certificate, key)
                .await
                .with_context(|| {
                    format!(
                        "cannot load TLS from {} and {}",
                        certificate.display(),
                        key.display()
                    )
                })?;
            let mut server = axum_server::from_tcp_rustls(listener, config)?.handle(handle);
            server
                .http_builder()
                .http1()
                .header_read_timeout(Duration::from_secs(10));
            server.serve(app).await?;
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?.handle(handle);
            server
                .http_builder()
                .http1()
                .header_read_timeout(Duration::from_secs(10));
            server.serve(app).await?;
        }
    }
    // Connections are closed; issuances whose clients hung up may still be running.
    if !bureau.finish_issuances(SHUTDOWN_GRACE).await {
        tracing::error!("stopping with issuances still in flight after the grace period");
    }
    // A delivery cut here is sent again at the next start (its cursor had not moved).
    webhooks.abort();
    registry.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The configured seal, or in development a seal of its own, made on first start.
fn seal_directory(settings: &Settings) -> anyhow::Result<PathBuf> {
    if let Some(keys) = &settings.seal_keys {
        return Ok(keys.clone());
    }
    if settings.mode == Mode::Production {
        bail!("production mode needs a seal: set [seal] keys = \"DIR\" or ONESEAL_SEAL_KEYS");
    }
    let dir = settings.data_dir.join("development-seal");
    if !dir.join(oneseal::seal::KEY_FILE).exists() {
        let subject = SealSubject::new(DEVELOPMENT_ORGANIZATION, DEVELOPMENT_SEAL_NAME, None)?;
        // Never asks: a fresh clone's first start must not stop at a prompt.
        let passphrase = settings
            .seal_secrets
            .clone()
            .without_prompt()
            .passphrase("the development seal")?;
        let origin = development_origin(settings);
        let plan = development_plan(&subject, origin.as_deref());
        super::keygen::create_key_directory(&dir, &plan, passphrase.as_ref().map(|p| p.as_slice()))
            .with_context(|| format!("cannot create the development seal in {}", dir.display()))?;
        oneseal::seal::write_new_file(
            &dir.join(DEVELOPMENT_MARKER),
            b"This seal was made by `oneseal serve` for development. It has no legal effect.\n",
            0o644,
        )?;
    }
    announce_development_seal(&dir);
    Ok(dir)
}

/// The configured TSA, or in development (with the development seal) a TSA of its own under
/// the development seal's root, made on first start. Production without `[tsa] keys` runs none.
fn tsa_directory(settings: &Settings, seal_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if let Some(keys) = &settings.tsa_keys {
        return Ok(Some(keys.clone()));
    }
    if settings.mode == Mode::Production || settings.seal_keys.is_some() {
        return Ok(None);
    }
    let dir = settings.data_dir.join("development-tsa");
    if !dir.join(oneseal::seal::KEY_FILE).exists() {
        let secrets = settings.seal_secrets.clone().without_prompt();
        let passphrase = secrets.passphrase("the development TSA")?;
        let organization = DEVELOPMENT_ORGANIZATION;
        let subject = SealSubject::new(
            organization,
            &super::keygen::tsa_common_name(organization),
            None,
        )?;
        let origin = development_origin(settings);
        let mut plan = development_plan(&subject, origin.as_deref());
        plan.days = super::keygen::TSA_DEFAULT_DAYS;
        super::keygen::create_tsa_directory(
            seal_dir,
            &dir,
            &plan,
            &secrets,
            passphrase.as_ref().map(|p| p.as_slice()),
        )
        .with_context(|| format!("cannot create the development TSA in {}", dir.display()))?;
        oneseal::seal::write_new_file(
            &dir.join(DEVELOPMENT_MARKER),
            b"This TSA key was made by `oneseal serve` for development. Its timestamps have no legal effect.\n",
            0o644,
        )?;
    }
    Ok(Some(dir))
}

/// The TSA in `dir`, checked as a seal is (production refuses development and unprotected
/// keys), under the configured policy.
fn load_tsa(settings: &Settings, dir: &Path) -> anyhow::Result<TimeStampAuthority> {
    let (signer, _) = super::seal::load_checked_seal(settings, dir)
        .with_context(|| format!("cannot load the TSA from {}", dir.display()))?;
    let mut policy = TsaPolicy::oneseal();
    if let Some(oid) = &settings.tsa_policy_oid {
        let parsed: const_oid::ObjectIdentifier = oid.parse().map_err(|e| {
            anyhow::anyhow!("[tsa] policy_oid = {oid:?} is not a dotted OID with 32-bit arcs: {e}")
        })?;
        policy.policy = oneseal::cms::tsp::PolicyId::from_oid(&parsed);
        policy.name = oid.clone();
    }
    policy.accuracy_ms = settings.tsa_accuracy_ms;
    let tsa = TimeStampAuthority::new(Arc::new(signer), policy)
        .map_err(|e| anyhow::anyhow!("cannot start the TSA from {}: {e}", dir.display()))?;
    tracing::info!(tsa = %dir.display(), "time-stamping authority in service at POST /tsa");
    Ok(tsa)
}

/// `[timestamping]`: where timestamps come from and how far issuance goes (docs/ltv.md). With
/// no level set, B-LT when a TSA is available and B-B otherwise; a level above B-B without a
/// TSA stops the start.
fn ltv_settings(
    settings: &Settings,
    bureau: &oneseal::service::Bureau,
) -> anyhow::Result<LtvSettings> {
    let wanted = &settings.timestamping;
    let level = wanted
        .level
        .as_deref()
        .map(|text| {
            LtvLevel::parse(text).ok_or_else(|| {
                anyhow::anyhow!("[timestamping] level = {text:?}: use B-B, B-T, B-LT or B-LTA")
            })
        })
        .transpose()?;
    let (source, reserve, tsa_chain) = if !wanted.urls.is_empty() {
        let (client, chain) = tsa_client(wanted, bureau)?;
        (
            Some(TimestampSource::Remote(Arc::new(client))),
            REMOTE_TOKEN_RESERVE,
            chain,
        )
    } else if let Some(chain) = bureau.tsa_chain() {
        (
            Some(TimestampSource::BuiltIn),
            BUILT_IN_TOKEN_RESERVE,
            chain,
        )
    } else {
        (None, 0, Vec::new())
    };
    match (source, level) {
        (None, Some(level)) if level > LtvLevel::BaselineB => bail!(
            "[timestamping] level = {} needs a time-stamping authority: set [timestamping] urls or [tsa] keys",
            level.name()
        ),
        (None, _) | (_, Some(LtvLevel::BaselineB)) => Ok(LtvSettings::off()),
        (source, level) => Ok(LtvSettings {
            source,
            required: wanted.required,
            level: level.unwrap_or(LtvLevel::BaselineLt),
            token_reserve: wanted.token_reserve.unwrap_or(reserve),
            tsa_chain,
        }),
    }
}

/// The outside TSAs' client, trusting `trust_pem` (or the bureau's own roots), and the
/// certificates of that file to embed beside each timestamp.
fn tsa_client(
    wanted: &super::config::TimestampingSettings,
    bureau: &oneseal::service::Bureau,
) -> anyhow::Result<(TsaClient, Vec<Vec<u8>>)> {
    let (anchors, chain) = match &wanted.trust_pem {
        Some(path) => {
            let pem = super::read_limited(path, 1 << 20, "read [timestamping] trust_pem")?;
            let mut anchors = oneseal::verify::TrustAnchors::new();
            anchors
                .add_pem_or_der(&pem)
                .map_err(|e| anyhow::anyhow!("[timestamping] trust_pem {}: {e}", path.display()))?;
            let chain = x509_parser::pem::Pem::iter_from_buffer(&pem)
                .filter_map(Result::ok)
                .map(|block| block.contents)
                .collect();
            (Arc::new(anchors), chain)
        }
        None => (bureau.anchors(), Vec::new()),
    };
    let client = TsaClient::new(
        TsaSettings {
            urls: wanted.urls.clone(),
            attempt_timeout: wanted.attempt_timeout,
            total_timeout: wanted.total_timeout,
            policy: None,
            certificates: chain.clone(),
        },
        anchors,
    )
    .map_err(|e| anyhow::anyhow!("[timestamping] urls: {e}"))?;
    Ok((client, chain))
}

/// Room for an outside TSA's token: an RSA chain of three certificates stays under 8 KiB.
const REMOTE_TOKEN_RESERVE: usize = 12 * 1024;

/// Room for a built-in TSA's token: its ECDSA signature and certificate take about 1.3 KiB.
const BUILT_IN_TOKEN_RESERVE: usize = 4096;

/// A development key's certificate: a year, with its root's CRL at the service when known.
fn development_plan<'a>(
    subject: &'a SealSubject,
    crl_base_url: Option<&'a str>,
) -> super::keygen::SealPlan<'a> {
    super::keygen::SealPlan {
        subject,
        days: 365,
        crl_base_url,
        now: time::OffsetDateTime::now_utc(),
    }
}

/// Where the development seal's CRL will be: the configured public origin, or the listening
/// address when it is fixed (port 0 is not known before binding, so no CRL is named then).
fn development_origin(settings: &Settings) -> Option<String> {
    if let Some(base) = &settings.base_url {
        let (scheme, rest) = base.split_once("://")?;
        let host = rest.split('/').next().filter(|host| !host.is_empty())?;
        return Some(format!("{scheme}://{host}"));
    }
    let scheme = if settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let address: SocketAddr = settings.listen.parse().ok()?;
    (address.port() != 0).then(|| format!("{scheme}://{address}"))
}

/// The development seal's root publishes its own CRL at each start, so a validator fetching the
/// URL the seal certificate names finds one. A failure is logged, not fatal.
async fn publish_development_crl(bureau: &Bureau, dir: &Path) {
    let published = match super::ca::development_crl(dir) {
        Ok(der) => oneseal::service::revocation::publish_crl(
            bureau.registry(),
            bureau.anchors().certificates(),
            &der,
            "oneseal:serve",
            oneseal::service::now_ms(),
        )
        .await
        .map_err(|error| error.to_string()),
        Err(error) => Err(format!("{error:#}")),
    };
    if let Err(error) = published {
        tracing::warn!(error = %error, "cannot publish the development seal's CRL");
    }
}

fn announce_development_seal(dir: &Path) {
    let line = "=".repeat(78);
    eprintln!(
        "{line}\n  DEVELOPMENT SEAL: licences signed now carry a development-only seal from\n  {}\n  They have no legal effect. Production (mode = \"production\") refuses this seal.\n{line}",
        dir.display()
    );
    tracing::warn!(seal = %dir.display(), "signing with a DEVELOPMENT-ONLY seal");
}

fn install_metrics() -> anyhow::Result<metrics_exporter_prometheus::PrometheusHandle> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    const BUCKETS: [f64; 12] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ];
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &BUCKETS)?
        .install_recorder()
        .context("cannot install the metrics recorder")
}

/// SIGTERM or Ctrl-C: stop accepting, let requests in flight finish, then stop.
async fn shutdown_on_signal(handle: axum_server::Handle<SocketAddr>) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
    handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
}
