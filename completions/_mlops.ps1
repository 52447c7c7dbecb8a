
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mlops' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mlops'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mlops' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create mlops.toml and a .gitignore (and data with --example); never overwrites')
            [CompletionResult]::new('train', 'train', [CompletionResultType]::ParameterValue, 'Fit the model on the project''s data, report metrics and write the artifact')
            [CompletionResult]::new('predict', 'predict', [CompletionResultType]::ParameterValue, 'Predict every row of a CSV: its columns plus a `prediction` column')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure')
            [CompletionResult]::new('package', 'package', [CompletionResultType]::ParameterValue, 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'List the registry''s models: latest version and the version in each stage')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the registry events in order, of every model or of NAME')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Take a version to an environment, verify it there, record tag NAME#ENV#N')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Put back the previous version (or --to VERSION), with the checks of deploy')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'What each environment''s targets serve against what the registry says')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration')
            [CompletionResult]::new('deregister', 'deregister', [CompletionResultType]::ParameterValue, 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on')
            [CompletionResult]::new('unassign', 'unassign', [CompletionResultType]::ParameterValue, 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back')
            [CompletionResult]::new('abtest-analyze', 'abtest-analyze', [CompletionResultType]::ParameterValue, 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlops;init' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--example', '--example', [CompletionResultType]::ParameterName, 'Also write the house-price example dataset to data/train.csv')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;train' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the artifact here instead of [model].artifact')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write the artifact here instead of [model].artifact')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--streaming', '--streaming', [CompletionResultType]::ParameterName, 'Fit in bounded memory, reading the data in blocks (default: by file size or [model].streaming)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;predict' {
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'The model artifact [default: [model].artifact of the project file]')
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'The CSV or Parquet file to predict (`-` for stdin; s3://, gs://, az:// URLs too)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the predictions here (atomically) instead of stdout; .parquet writes Parquet')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;validate' {
            [CompletionResult]::new('--data', '--data', [CompletionResultType]::ParameterName, 'Evaluate on this CSV instead of the validation rows of [split]')
            [CompletionResult]::new('--baseline', '--baseline', [CompletionResultType]::ParameterName, 'Compare with the version in this stage, or with NAME@vX.Y.Z [default: validate.baseline]')
            [CompletionResult]::new('--drift-data', '--drift-data', [CompletionResultType]::ParameterName, 'Check the drift of this CSV (or prediction log, JSON Lines) against the training rows [default: validate.drift.data]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'With a prediction log: only its lines this recent (like 24h, 30m, 7d)')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table')
            [CompletionResult]::new('--dotenv', '--dotenv', [CompletionResultType]::ParameterName, 'Write MLOPS_VALIDATE_PASSED=true|false and the metrics to this dotenv file')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;package' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Register this version (vMAJOR.MINOR.PATCH[-PRE][+BUILD])')
            [CompletionResult]::new('--bump', '--bump', [CompletionResultType]::ParameterName, 'Bump this part of the highest registered version (the first version is v0.0.1)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Rebuild the bundle of a registered version from its commit and compare its sha256 with the tag''s')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Push the new tag to [registry].remote (default origin)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the version, tag and bundle path it would create; change nothing')
            [CompletionResult]::new('--upload', '--upload', [CompletionResultType]::ParameterName, 'Put the bundle in [registry].bundle_store before tagging')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mlops;models' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;history' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;deploy' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'The version to deploy [default: the latest registered version of [model].name]')
            [CompletionResult]::new('--canary', '--canary', [CompletionResultType]::ParameterName, 'Canary: serve the version as challenger beside the champion, with this % of traffic (local and http targets)')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'Environments with targets = [...]: deploy to these targets only (comma-separated)')
            [CompletionResult]::new('--max-parallel', '--max-parallel', [CompletionResultType]::ParameterName, 'Environments with targets: stage and verify this many targets at once [default: 1]')
            [CompletionResult]::new('--bake', '--bake', [CompletionResultType]::ParameterName, 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target''s /metrics error ratio against [deploy] max_error_ratio')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Environments with targets: finish the interrupted deploy with this journal id (.mlops/deploys/ID.json)')
            [CompletionResult]::new('--abort', '--abort', [CompletionResultType]::ParameterName, 'Environments with targets: undo the interrupted deploy with this journal id, putting every target back')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--promote', '--promote', [CompletionResultType]::ParameterName, 'End a canary: make the running challenger the champion, which serves all traffic')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan (environment, target, current and new version, strategy, checks); change nothing')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Push the assignment tag to [registry].remote (default origin)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Accepted for scripts; mlops never prompts')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Accepted for scripts; mlops never prompts')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Act even when what the environment serves differs from what the registry says')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mlops;rollback' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Put back this version instead of the one live before the current')
            [CompletionResult]::new('--targets', '--targets', [CompletionResultType]::ParameterName, 'Environments with targets = [...]: deploy to these targets only (comma-separated)')
            [CompletionResult]::new('--max-parallel', '--max-parallel', [CompletionResultType]::ParameterName, 'Environments with targets: stage and verify this many targets at once [default: 1]')
            [CompletionResult]::new('--bake', '--bake', [CompletionResultType]::ParameterName, 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target''s /metrics error ratio against [deploy] max_error_ratio')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan; change nothing')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Push the assignment tag to [registry].remote (default origin)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Accepted for scripts; mlops never prompts')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Accepted for scripts; mlops never prompts')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Act even when what the environment serves differs from what the registry says')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;status' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;show' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;deprecate' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;deregister' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;unassign' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;abtest-analyze' {
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'The rows: a CSV or JSON Lines file, `-` for stdin, or an http(s) URL')
            [CompletionResult]::new('--variant-column', '--variant-column', [CompletionResultType]::ParameterName, 'The column naming each row''s variant [default: abtest.variant_column, else variant]')
            [CompletionResult]::new('--metric', '--metric', [CompletionResultType]::ParameterName, 'The metric column [default: abtest.metric]')
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'The kind of metric [default: abtest.kind, else continuous]')
            [CompletionResult]::new('--control', '--control', [CompletionResultType]::ParameterName, 'The control variant [default: abtest.control]')
            [CompletionResult]::new('--alpha', '--alpha', [CompletionResultType]::ParameterName, 'Significance level [default: abtest.alpha, else 0.05]')
            [CompletionResult]::new('--split', '--split', [CompletionResultType]::ParameterName, 'The planned allocation, like A=0.5,B=0.5 [default: abtest.planned_split, else equal]')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'With an http(s) --input: send `Authorization: Bearer` with the token in this environment variable (never printed)')
            [CompletionResult]::new('--test', '--test', [CompletionResultType]::ParameterName, 'The test [default: abtest.test, else auto: Welch for continuous, z or Fisher for binary]')
            [CompletionResult]::new('--correction', '--correction', [CompletionResultType]::ParameterName, 'Multiple-comparison correction over the variants [default: abtest.correction, else holm]')
            [CompletionResult]::new('--unit', '--unit', [CompletionResultType]::ParameterName, 'Aggregate the rows of each unit (a user, a session) named in this column before testing')
            [CompletionResult]::new('--covariate', '--covariate', [CompletionResultType]::ParameterName, 'Reduce variance with CUPED: a column measured before the experiment (theta pooled across variants)')
            [CompletionResult]::new('--mde', '--mde', [CompletionResultType]::ParameterName, 'Relative minimum detectable effect (like 0.02) to report the sample size needed for')
            [CompletionResult]::new('--direction', '--direction', [CompletionResultType]::ParameterName, 'Which way is better for the metric [default: abtest.direction, else increase]')
            [CompletionResult]::new('--require', '--require', [CompletionResultType]::ParameterName, 'Exit 1 unless the decision is this one')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report (in --format, or JSON with --json) to this file, atomically, instead of stdout')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;serve' {
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Listen on this address and port (port 0: any free port) [default: [serve].bind, else 127.0.0.1:8080]')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Serve this model from the start: an artifact JSON or a bundle .tar.gz (checksums verified)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Serve a local environment''s current release and follow its deploys')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Keep uploaded bundles, slots, split and A/B observations in this folder across restarts [default: [serve].state_dir, else none]')
            [CompletionResult]::new('--grpc-bind', '--grpc-bind', [CompletionResultType]::ParameterName, 'Also serve the Open Inference Protocol over gRPC on this address and port [default: [serve].grpc_bind, else no gRPC]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;completions' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the script to this file, atomically, instead of stdout')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;token' {
            [CompletionResult]::new('--role', '--role', [CompletionResultType]::ParameterName, 'A role the token grants (repeat for both)')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'Lifetime: a number with s, m, h or d (like 15m)')
            [CompletionResult]::new('--sub', '--sub', [CompletionResultType]::ParameterName, 'The token''s subject (sub)')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;monitor' {
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('emit', 'emit', [CompletionResultType]::ParameterValue, 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlops;monitor;emit' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The folder to write the three files to (created if needed)')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'The folder to write the three files to (created if needed)')
            [CompletionResult]::new('--job', '--job', [CompletionResultType]::ParameterName, 'The Prometheus job that scrapes the server')
            [CompletionResult]::new('--availability', '--availability', [CompletionResultType]::ParameterName, 'Availability objective: the share of requests answered without a 5xx')
            [CompletionResult]::new('--latency-le', '--latency-le', [CompletionResultType]::ParameterName, 'Latency objective''s bound, seconds: a bucket of mlops_request_duration_seconds')
            [CompletionResult]::new('--latency-target', '--latency-target', [CompletionResultType]::ParameterName, 'Latency objective: the share of requests at most --latency-le')
            [CompletionResult]::new('--runbook', '--runbook', [CompletionResultType]::ParameterName, 'Where the runbook annotations point (anchors per alert follow)')
            [CompletionResult]::new('--kube', '--kube', [CompletionResultType]::ParameterName, 'Also write the rules as a PrometheusRule (prometheusrule.yaml) beside this kubernetes environment''s manifests')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'The report''s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of the human report')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more on stderr (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'mlops;monitor;help' {
            [CompletionResult]::new('emit', 'emit', [CompletionResultType]::ParameterValue, 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlops;monitor;help;emit' {
            break
        }
        'mlops;monitor;help;help' {
            break
        }
        'mlops;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create mlops.toml and a .gitignore (and data with --example); never overwrites')
            [CompletionResult]::new('train', 'train', [CompletionResultType]::ParameterValue, 'Fit the model on the project''s data, report metrics and write the artifact')
            [CompletionResult]::new('predict', 'predict', [CompletionResultType]::ParameterValue, 'Predict every row of a CSV: its columns plus a `prediction` column')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure')
            [CompletionResult]::new('package', 'package', [CompletionResultType]::ParameterValue, 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z')
            [CompletionResult]::new('models', 'models', [CompletionResultType]::ParameterValue, 'List the registry''s models: latest version and the version in each stage')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List the registry events in order, of every model or of NAME')
            [CompletionResult]::new('deploy', 'deploy', [CompletionResultType]::ParameterValue, 'Take a version to an environment, verify it there, record tag NAME#ENV#N')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Put back the previous version (or --to VERSION), with the checks of deploy')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'What each environment''s targets serve against what the registry says')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events')
            [CompletionResult]::new('deprecate', 'deprecate', [CompletionResultType]::ParameterValue, 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration')
            [CompletionResult]::new('deregister', 'deregister', [CompletionResultType]::ParameterValue, 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on')
            [CompletionResult]::new('unassign', 'unassign', [CompletionResultType]::ParameterValue, 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back')
            [CompletionResult]::new('abtest-analyze', 'abtest-analyze', [CompletionResultType]::ParameterValue, 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)')
            [CompletionResult]::new('monitor', 'monitor', [CompletionResultType]::ParameterValue, 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mlops;help;init' {
            break
        }
        'mlops;help;train' {
            break
        }
        'mlops;help;predict' {
            break
        }
        'mlops;help;validate' {
            break
        }
        'mlops;help;package' {
            break
        }
        'mlops;help;models' {
            break
        }
        'mlops;help;history' {
            break
        }
        'mlops;help;deploy' {
            break
        }
        'mlops;help;rollback' {
            break
        }
        'mlops;help;status' {
            break
        }
        'mlops;help;show' {
            break
        }
        'mlops;help;deprecate' {
            break
        }
        'mlops;help;deregister' {
            break
        }
        'mlops;help;unassign' {
            break
        }
        'mlops;help;abtest-analyze' {
            break
        }
        'mlops;help;serve' {
            break
        }
        'mlops;help;completions' {
            break
        }
        'mlops;help;token' {
            break
        }
        'mlops;help;monitor' {
            [CompletionResult]::new('emit', 'emit', [CompletionResultType]::ParameterValue, 'Write alerts.yml, alerts_test.yml and dashboard.json for the project''s model')
            break
        }
        'mlops;help;monitor;emit' {
            break
        }
        'mlops;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
