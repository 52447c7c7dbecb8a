
use builtin;
use str;

set edit:completion:arg-completer[mlops] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mlops'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mlops'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create mlops.toml and a .gitignore (and data with --example); never overwrites'
            cand train 'Fit the model on the project''s data, report metrics and write the artifact'
            cand predict 'Predict every row of a CSV: its columns plus a `prediction` column'
            cand validate 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure'
            cand package 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z'
            cand models 'List the registry''s models: latest version and the version in each stage'
            cand history 'List the registry events in order, of every model or of NAME'
            cand deploy 'Take a version to an environment, verify it there, record tag NAME#ENV#N'
            cand rollback 'Put back the previous version (or --to VERSION), with the checks of deploy'
            cand status 'What each environment''s targets serve against what the registry says'
            cand show 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events'
            cand deprecate 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration'
            cand deregister 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on'
            cand unassign 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back'
            cand abtest-analyze 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid'
            cand serve 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics'
            cand completions 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)'
            cand token 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)'
            cand monitor 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlops;init'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --example 'Also write the house-price example dataset to data/train.csv'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;train'= {
            cand --output 'Write the artifact here instead of [model].artifact'
            cand --out 'Write the artifact here instead of [model].artifact'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --streaming 'Fit in bounded memory, reading the data in blocks (default: by file size or [model].streaming)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;predict'= {
            cand --model 'The model artifact [default: [model].artifact of the project file]'
            cand --input 'The CSV or Parquet file to predict (`-` for stdin; s3://, gs://, az:// URLs too)'
            cand --output 'Write the predictions here (atomically) instead of stdout; .parquet writes Parquet'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;validate'= {
            cand --data 'Evaluate on this CSV instead of the validation rows of [split]'
            cand --baseline 'Compare with the version in this stage, or with NAME@vX.Y.Z [default: validate.baseline]'
            cand --drift-data 'Check the drift of this CSV (or prediction log, JSON Lines) against the training rows [default: validate.drift.data]'
            cand --since 'With a prediction log: only its lines this recent (like 24h, 30m, 7d)'
            cand --report 'Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table'
            cand --output 'Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table'
            cand --dotenv 'Write MLOPS_VALIDATE_PASSED=true|false and the metrics to this dotenv file'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;package'= {
            cand --version 'Register this version (vMAJOR.MINOR.PATCH[-PRE][+BUILD])'
            cand --bump 'Bump this part of the highest registered version (the first version is v0.0.1)'
            cand --check 'Rebuild the bundle of a registered version from its commit and compare its sha256 with the tag''s'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --push 'Push the new tag to [registry].remote (default origin)'
            cand --dry-run 'Print the version, tag and bundle path it would create; change nothing'
            cand --upload 'Put the bundle in [registry].bundle_store before tagging'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mlops;models'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;history'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;deploy'= {
            cand --version 'The version to deploy [default: the latest registered version of [model].name]'
            cand --canary 'Canary: serve the version as challenger beside the champion, with this % of traffic (local and http targets)'
            cand --targets 'Environments with targets = [...]: deploy to these targets only (comma-separated)'
            cand --max-parallel 'Environments with targets: stage and verify this many targets at once [default: 1]'
            cand --bake 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target''s /metrics error ratio against [deploy] max_error_ratio'
            cand --resume 'Environments with targets: finish the interrupted deploy with this journal id (.mlops/deploys/ID.json)'
            cand --abort 'Environments with targets: undo the interrupted deploy with this journal id, putting every target back'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --promote 'End a canary: make the running challenger the champion, which serves all traffic'
            cand --dry-run 'Print the plan (environment, target, current and new version, strategy, checks); change nothing'
            cand --push 'Push the assignment tag to [registry].remote (default origin)'
            cand -y 'Accepted for scripts; mlops never prompts'
            cand --yes 'Accepted for scripts; mlops never prompts'
            cand --force 'Act even when what the environment serves differs from what the registry says'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mlops;rollback'= {
            cand --to 'Put back this version instead of the one live before the current'
            cand --targets 'Environments with targets = [...]: deploy to these targets only (comma-separated)'
            cand --max-parallel 'Environments with targets: stage and verify this many targets at once [default: 1]'
            cand --bake 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target''s /metrics error ratio against [deploy] max_error_ratio'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --dry-run 'Print the plan; change nothing'
            cand --push 'Push the assignment tag to [registry].remote (default origin)'
            cand -y 'Accepted for scripts; mlops never prompts'
            cand --yes 'Accepted for scripts; mlops never prompts'
            cand --force 'Act even when what the environment serves differs from what the registry says'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;status'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;show'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;deprecate'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;deregister'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;unassign'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;abtest-analyze'= {
            cand --input 'The rows: a CSV or JSON Lines file, `-` for stdin, or an http(s) URL'
            cand --variant-column 'The column naming each row''s variant [default: abtest.variant_column, else variant]'
            cand --metric 'The metric column [default: abtest.metric]'
            cand --kind 'The kind of metric [default: abtest.kind, else continuous]'
            cand --control 'The control variant [default: abtest.control]'
            cand --alpha 'Significance level [default: abtest.alpha, else 0.05]'
            cand --split 'The planned allocation, like A=0.5,B=0.5 [default: abtest.planned_split, else equal]'
            cand --token-env 'With an http(s) --input: send `Authorization: Bearer` with the token in this environment variable (never printed)'
            cand --test 'The test [default: abtest.test, else auto: Welch for continuous, z or Fisher for binary]'
            cand --correction 'Multiple-comparison correction over the variants [default: abtest.correction, else holm]'
            cand --unit 'Aggregate the rows of each unit (a user, a session) named in this column before testing'
            cand --covariate 'Reduce variance with CUPED: a column measured before the experiment (theta pooled across variants)'
            cand --mde 'Relative minimum detectable effect (like 0.02) to report the sample size needed for'
            cand --direction 'Which way is better for the metric [default: abtest.direction, else increase]'
            cand --require 'Exit 1 unless the decision is this one'
            cand --output 'Write the report (in --format, or JSON with --json) to this file, atomically, instead of stdout'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;serve'= {
            cand --bind 'Listen on this address and port (port 0: any free port) [default: [serve].bind, else 127.0.0.1:8080]'
            cand --model 'Serve this model from the start: an artifact JSON or a bundle .tar.gz (checksums verified)'
            cand --env 'Serve a local environment''s current release and follow its deploys'
            cand --state-dir 'Keep uploaded bundles, slots, split and A/B observations in this folder across restarts [default: [serve].state_dir, else none]'
            cand --grpc-bind 'Also serve the Open Inference Protocol over gRPC on this address and port [default: [serve].grpc_bind, else no gRPC]'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;completions'= {
            cand --output 'Write the script to this file, atomically, instead of stdout'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;token'= {
            cand --role 'A role the token grants (repeat for both)'
            cand --ttl 'Lifetime: a number with s, m, h or d (like 15m)'
            cand --sub 'The token''s subject (sub)'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;monitor'= {
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand emit 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlops;monitor;emit'= {
            cand --output 'The folder to write the three files to (created if needed)'
            cand --out 'The folder to write the three files to (created if needed)'
            cand --job 'The Prometheus job that scrapes the server'
            cand --availability 'Availability objective: the share of requests answered without a 5xx'
            cand --latency-le 'Latency objective''s bound, seconds: a bucket of mlops_request_duration_seconds'
            cand --latency-target 'Latency objective: the share of requests at most --latency-le'
            cand --runbook 'Where the runbook annotations point (anchors per alert follow)'
            cand --kube 'Also write the rules as a PrometheusRule (prometheusrule.yaml) beside this kubernetes environment''s manifests'
            cand -C 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --config 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]'
            cand --format 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)'
            cand --color 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)'
            cand --json 'Print one JSON document on stdout instead of the human report'
            cand -q 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand --quiet 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
            cand -v 'Say more on stderr (repeat for more)'
            cand --verbose 'Say more on stderr (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'mlops;monitor;help'= {
            cand emit 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlops;monitor;help;emit'= {
        }
        &'mlops;monitor;help;help'= {
        }
        &'mlops;help'= {
            cand init 'Create mlops.toml and a .gitignore (and data with --example); never overwrites'
            cand train 'Fit the model on the project''s data, report metrics and write the artifact'
            cand predict 'Predict every row of a CSV: its columns plus a `prediction` column'
            cand validate 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure'
            cand package 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z'
            cand models 'List the registry''s models: latest version and the version in each stage'
            cand history 'List the registry events in order, of every model or of NAME'
            cand deploy 'Take a version to an environment, verify it there, record tag NAME#ENV#N'
            cand rollback 'Put back the previous version (or --to VERSION), with the checks of deploy'
            cand status 'What each environment''s targets serve against what the registry says'
            cand show 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events'
            cand deprecate 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration'
            cand deregister 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on'
            cand unassign 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back'
            cand abtest-analyze 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid'
            cand serve 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics'
            cand completions 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)'
            cand token 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)'
            cand monitor 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mlops;help;init'= {
        }
        &'mlops;help;train'= {
        }
        &'mlops;help;predict'= {
        }
        &'mlops;help;validate'= {
        }
        &'mlops;help;package'= {
        }
        &'mlops;help;models'= {
        }
        &'mlops;help;history'= {
        }
        &'mlops;help;deploy'= {
        }
        &'mlops;help;rollback'= {
        }
        &'mlops;help;status'= {
        }
        &'mlops;help;show'= {
        }
        &'mlops;help;deprecate'= {
        }
        &'mlops;help;deregister'= {
        }
        &'mlops;help;unassign'= {
        }
        &'mlops;help;abtest-analyze'= {
        }
        &'mlops;help;serve'= {
        }
        &'mlops;help;completions'= {
        }
        &'mlops;help;token'= {
        }
        &'mlops;help;monitor'= {
            cand emit 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model'
        }
        &'mlops;help;monitor;emit'= {
        }
        &'mlops;help;help'= {
        }
    ]
    $completions[$command]
}
