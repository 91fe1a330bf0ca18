//! `sparselabel cluster`: k-means or a Gaussian mixture on a `.npy` or CSV
//! matrix, printing one JSON object (DESIGN.md §2).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};

use crate::cluster::{
    gmm, kmeans, CovarianceScope, CovarianceType, Distance, GmmConfig, GmmInit, KMeansConfig,
};
use crate::data::csv::{read_csv, LabelColumn};
use crate::data::npy::{read_npy, write_npy};
use crate::data::read_labels;
use crate::metrics;
use crate::{Error, Result};

/// Clustering algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Algo {
    /// Gaussian mixture fitted by EM.
    Gmm,
    /// k-means (Lloyd).
    Kmeans,
}

/// GMM covariance shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Covariance {
    /// Full covariance per component.
    Full,
    /// Diagonal covariance per component.
    Diag,
}

/// GMM initialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Init {
    /// From one k-means run.
    Kmeans,
    /// Random responsibilities.
    Random,
}

/// k-means distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DistanceArg {
    /// Squared Euclidean.
    Euclidean,
    /// Mahalanobis with one pooled covariance.
    MahalanobisShared,
    /// Mahalanobis with a covariance per cluster.
    MahalanobisPerCluster,
}

/// Arguments of `sparselabel cluster`.
#[derive(Args, Debug)]
pub struct ClusterArgs {
    /// Points to cluster: a 2-D `.npy` (examples × features) or a CSV file (a
    /// header column named label/class/target/y is not a feature; it serves
    /// as --truth when none is given).
    #[arg(long)]
    pub input: PathBuf,
    /// Number of clusters.
    #[arg(long)]
    pub k: usize,
    /// Algorithm.
    #[arg(long, value_enum, default_value = "gmm")]
    pub algo: Algo,
    /// GMM covariance shape.
    #[arg(long, value_enum, default_value = "full")]
    pub covariance: Covariance,
    /// GMM initialisation.
    #[arg(long, value_enum, default_value = "kmeans")]
    pub init: Init,
    /// k-means distance.
    #[arg(long, value_enum, default_value = "euclidean")]
    pub distance: DistanceArg,
    /// Restarts; the best is kept.
    #[arg(long, default_value_t = 1)]
    pub n_init: usize,
    /// Most iterations per restart (default 100 for GMM, 300 for k-means).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Tolerance (default 1e-3 on the mean log-likelihood for GMM, 1e-4
    /// relative centre shift for k-means).
    #[arg(long)]
    pub tol: Option<f64>,
    /// GMM: added to covariance diagonals.
    #[arg(long, default_value_t = 1e-6)]
    pub reg_covar: f64,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// True labels (`.npy` or one-column CSV) to score the clustering.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Write the cluster of every point here (`.npy`, int64).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Points (`n × dim`), `n`, `dim`, and labels from a CSV label column.
type Points = (Vec<f32>, usize, usize, Option<Vec<u32>>);

fn read_points(path: &Path) -> Result<Points> {
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        let arr = read_npy(path)?;
        if arr.shape.len() != 2 || arr.shape[0] == 0 || arr.shape[1] == 0 {
            return Err(Error::bad_input(
                path,
                format!(
                    "expected a non-empty 2-D array (points × features), found shape {:?}",
                    arr.shape
                ),
            ));
        }
        Ok((arr.to_f32(path)?, arr.shape[0], arr.shape[1], None))
    } else {
        let (t, _) = read_csv(path, &LabelColumn::Auto)?;
        Ok((t.x, t.n, t.dim, t.labels))
    }
}

/// Runs the subcommand.
pub fn run(args: &ClusterArgs) -> Result<()> {
    if args.threads == Some(0) {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    if args.n_init == 0 {
        return Err(Error::Usage("--n-init must be at least 1".into()));
    }
    if args.max_iter == Some(0) {
        return Err(Error::Usage("--max-iter must be at least 1".into()));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = args.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Other(format!("thread pool: {e}")))?;
    let obj = pool.install(|| cluster(args))?;
    println!("{}", Value::Object(obj));
    Ok(())
}

fn cluster(args: &ClusterArgs) -> Result<Map<String, Value>> {
    let (x, n, dim, csv_truth) = read_points(&args.input)?;
    if args.k == 0 || args.k > n {
        return Err(Error::Usage(format!(
            "--k {} must be between 1 and the number of points ({n})",
            args.k
        )));
    }
    let truth = match &args.truth {
        Some(p) => Some(read_labels(p, n)?.0),
        None => csv_truth,
    };
    let start = Instant::now();
    let mut out = Map::new();
    out.insert("input".into(), json!(args.input.display().to_string()));
    out.insert("n".into(), json!(n));
    out.insert("dim".into(), json!(dim));
    out.insert("k".into(), json!(args.k));
    let labels = match args.algo {
        Algo::Gmm => {
            let cfg = GmmConfig {
                k: args.k,
                covariance: match args.covariance {
                    Covariance::Full => CovarianceType::Full,
                    Covariance::Diag => CovarianceType::Diag,
                },
                init: match args.init {
                    Init::Kmeans => GmmInit::KMeans,
                    Init::Random => GmmInit::Random,
                },
                reg_covar: args.reg_covar,
                tol: args.tol.unwrap_or(1e-3),
                max_iter: args.max_iter.unwrap_or(100),
                n_init: args.n_init,
                seed: args.seed,
            };
            let fit = gmm(&x, n, dim, &cfg)?;
            out.insert("algo".into(), json!("gmm"));
            out.insert(
                "covariance".into(),
                json!(format!("{:?}", args.covariance).to_lowercase()),
            );
            out.insert("log_likelihood".into(), json!(fit.mean_log_likelihood));
            out.insert("bic".into(), json!(fit.bic));
            out.insert("iterations".into(), json!(fit.iterations));
            out.insert("converged".into(), json!(fit.converged));
            out.insert("weights".into(), json!(fit.model.weights));
            let k = fit.model.k;
            fit.responsibilities
                .chunks_exact(k)
                .map(|row| (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b }) as u32)
                .collect::<Vec<u32>>()
        }
        Algo::Kmeans => {
            let cfg = KMeansConfig {
                k: args.k,
                n_init: args.n_init,
                max_iter: args.max_iter.unwrap_or(300),
                tol: args.tol.unwrap_or(1e-4),
                seed: args.seed,
                distance: match args.distance {
                    DistanceArg::Euclidean => Distance::Euclidean,
                    DistanceArg::MahalanobisShared => {
                        Distance::Mahalanobis(CovarianceScope::Shared)
                    }
                    DistanceArg::MahalanobisPerCluster => {
                        Distance::Mahalanobis(CovarianceScope::PerCluster)
                    }
                },
            };
            let res = kmeans(&x, n, dim, &cfg)?;
            out.insert("algo".into(), json!("kmeans"));
            out.insert("inertia".into(), json!(res.inertia));
            out.insert("iterations".into(), json!(res.iterations));
            out.insert("converged".into(), json!(res.converged));
            res.labels
        }
    };
    out.insert("seconds".into(), json!(start.elapsed().as_secs_f64()));
    out.insert("threads".into(), json!(rayon::current_num_threads()));
    if let Some(t) = &truth {
        out.insert(
            "cluster_accuracy".into(),
            json!(metrics::cluster_accuracy(&labels, t)?.accuracy),
        );
        out.insert("purity".into(), json!(metrics::purity(&labels, t)?));
        out.insert("nmi".into(), json!(metrics::nmi(&labels, t)?));
        out.insert(
            "ari".into(),
            json!(metrics::adjusted_rand_index(&labels, t)?),
        );
    }
    if let Some(p) = &args.out {
        let l: Vec<i64> = labels.iter().map(|&v| v as i64).collect();
        write_npy(p, &[n], &l)?;
        out.insert("out".into(), json!(p.display().to_string()));
    }
    Ok(out)
}
