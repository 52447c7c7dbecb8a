# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mlops_global_optspecs
    string join \n C/config= json format= q/quiet v/verbose color= h/help V/version
end

function __fish_mlops_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mlops_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mlops_using_subcommand
    set -l cmd (__fish_mlops_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mlops -n "__fish_mlops_needs_command" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_needs_command" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_needs_command" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_needs_command" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_needs_command" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_needs_command" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_needs_command" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "init" -d 'Create mlops.toml and a .gitignore (and data with --example); never overwrites'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "train" -d 'Fit the model on the project\'s data, report metrics and write the artifact'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "predict" -d 'Predict every row of a CSV: its columns plus a `prediction` column'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "validate" -d 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "package" -d 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "models" -d 'List the registry\'s models: latest version and the version in each stage'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "history" -d 'List the registry events in order, of every model or of NAME'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "deploy" -d 'Take a version to an environment, verify it there, record tag NAME#ENV#N'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "rollback" -d 'Put back the previous version (or --to VERSION), with the checks of deploy'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "status" -d 'What each environment\'s targets serve against what the registry says'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "show" -d 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "deprecate" -d 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "deregister" -d 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "unassign" -d 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "abtest-analyze" -d 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "serve" -d 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "completions" -d 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "token" -d 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "monitor" -d 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model'
complete -c mlops -n "__fish_mlops_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlops -n "__fish_mlops_using_subcommand init" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand init" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand init" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand init" -l example -d 'Also write the house-price example dataset to data/train.csv'
complete -c mlops -n "__fish_mlops_using_subcommand init" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand init" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand init" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand init" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand train" -l output -l out -d 'Write the artifact here instead of [model].artifact' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand train" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand train" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand train" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand train" -l streaming -d 'Fit in bounded memory, reading the data in blocks (default: by file size or [model].streaming)'
complete -c mlops -n "__fish_mlops_using_subcommand train" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand train" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand train" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand train" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand train" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l model -d 'The model artifact [default: [model].artifact of the project file]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l input -d 'The CSV or Parquet file to predict (`-` for stdin; s3://, gs://, az:// URLs too)' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l output -d 'Write the predictions here (atomically) instead of stdout; .parquet writes Parquet' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand predict" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand predict" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand predict" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand predict" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand predict" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand predict" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l data -d 'Evaluate on this CSV instead of the validation rows of [split]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l baseline -d 'Compare with the version in this stage, or with NAME@vX.Y.Z [default: validate.baseline]' -r
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l drift-data -d 'Check the drift of this CSV (or prediction log, JSON Lines) against the training rows [default: validate.drift.data]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l since -d 'With a prediction log: only its lines this recent (like 24h, 30m, 7d)' -r
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l report -l output -d 'Write the report in --format [default: text; junit in GitLab CI] to this file; stdout keeps the text table' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l dotenv -d 'Write MLOPS_VALIDATE_PASSED=true|false and the metrics to this dotenv file' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand validate" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand validate" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand validate" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand validate" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand validate" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand package" -l version -d 'Register this version (vMAJOR.MINOR.PATCH[-PRE][+BUILD])' -r
complete -c mlops -n "__fish_mlops_using_subcommand package" -l bump -d 'Bump this part of the highest registered version (the first version is v0.0.1)' -r -f -a "patch\t'vX.Y.Z+1'
minor\t'vX.Y+1.0'
major\t'vX+1.0.0'"
complete -c mlops -n "__fish_mlops_using_subcommand package" -l check -d 'Rebuild the bundle of a registered version from its commit and compare its sha256 with the tag\'s' -r
complete -c mlops -n "__fish_mlops_using_subcommand package" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand package" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand package" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand package" -l push -d 'Push the new tag to [registry].remote (default origin)'
complete -c mlops -n "__fish_mlops_using_subcommand package" -l dry-run -d 'Print the version, tag and bundle path it would create; change nothing'
complete -c mlops -n "__fish_mlops_using_subcommand package" -l upload -d 'Put the bundle in [registry].bundle_store before tagging'
complete -c mlops -n "__fish_mlops_using_subcommand package" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand package" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand package" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand package" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand models" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand models" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand models" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand models" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand models" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand models" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand models" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand models" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand history" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand history" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand history" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand history" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand history" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand history" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand history" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand history" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l version -d 'The version to deploy [default: the latest registered version of [model].name]' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l canary -d 'Canary: serve the version as challenger beside the champion, with this % of traffic (local and http targets)' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l targets -d 'Environments with targets = [...]: deploy to these targets only (comma-separated)' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l max-parallel -d 'Environments with targets: stage and verify this many targets at once [default: 1]' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l bake -d 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target\'s /metrics error ratio against [deploy] max_error_ratio' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l resume -d 'Environments with targets: finish the interrupted deploy with this journal id (.mlops/deploys/ID.json)' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l abort -d 'Environments with targets: undo the interrupted deploy with this journal id, putting every target back' -r
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l promote -d 'End a canary: make the running challenger the champion, which serves all traffic'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l dry-run -d 'Print the plan (environment, target, current and new version, strategy, checks); change nothing'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l push -d 'Push the assignment tag to [registry].remote (default origin)'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -s y -l yes -d 'Accepted for scripts; mlops never prompts'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l force -d 'Act even when what the environment serves differs from what the registry says'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand deploy" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l to -d 'Put back this version instead of the one live before the current' -r
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l targets -d 'Environments with targets = [...]: deploy to these targets only (comma-separated)' -r
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l max-parallel -d 'Environments with targets: stage and verify this many targets at once [default: 1]' -r
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l bake -d 'Environments with targets: after each commit wait this long (30s, 10m, 1h) and check the target\'s /metrics error ratio against [deploy] max_error_ratio' -r
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l dry-run -d 'Print the plan; change nothing'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l push -d 'Push the assignment tag to [registry].remote (default origin)'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s y -l yes -d 'Accepted for scripts; mlops never prompts'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l force -d 'Act even when what the environment serves differs from what the registry says'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand status" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand status" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand status" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand status" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand status" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand status" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand status" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand show" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand show" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand show" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand show" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand show" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand show" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand show" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand deprecate" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand deregister" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand unassign" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l input -d 'The rows: a CSV or JSON Lines file, `-` for stdin, or an http(s) URL' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l variant-column -d 'The column naming each row\'s variant [default: abtest.variant_column, else variant]' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l metric -d 'The metric column [default: abtest.metric]' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l kind -d 'The kind of metric [default: abtest.kind, else continuous]' -r -f -a "continuous\t'Any real number'
binary\t'0/1 or true/false'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l control -d 'The control variant [default: abtest.control]' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l alpha -d 'Significance level [default: abtest.alpha, else 0.05]' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l split -d 'The planned allocation, like A=0.5,B=0.5 [default: abtest.planned_split, else equal]' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l token-env -d 'With an http(s) --input: send `Authorization: Bearer` with the token in this environment variable (never printed)' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l test -d 'The test [default: abtest.test, else auto: Welch for continuous, z or Fisher for binary]' -r -f -a "auto\t'Welch (continuous); pooled z, or Fisher when an expected count is below 5 (binary)'
welch\t'Welch\'s unequal-variance t-test'
student\t'Student\'s pooled-variance t-test'
mann-whitney\t'Mann-Whitney U (exact when small and untied)'
z\t'Pooled two-proportion z-test'
chi2\t'2x2 chi-square with Yates\' correction'
fisher\t'Fisher\'s exact test'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l correction -d 'Multiple-comparison correction over the variants [default: abtest.correction, else holm]' -r -f -a "holm\t'Holm step-down'
bonferroni\t'Bonferroni'
bh\t'Benjamini-Hochberg false discovery rate'
none\t'No correction'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l unit -d 'Aggregate the rows of each unit (a user, a session) named in this column before testing' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l covariate -d 'Reduce variance with CUPED: a column measured before the experiment (theta pooled across variants)' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l mde -d 'Relative minimum detectable effect (like 0.02) to report the sample size needed for' -r
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l direction -d 'Which way is better for the metric [default: abtest.direction, else increase]' -r -f -a "increase\t'Higher is better'
decrease\t'Lower is better'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l require -d 'Exit 1 unless the decision is this one' -r -f -a "ship\t'A challenger is significantly better and the experiment is valid'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l output -d 'Write the report (in --format, or JSON with --json) to this file, atomically, instead of stdout' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand abtest-analyze" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l bind -d 'Listen on this address and port (port 0: any free port) [default: [serve].bind, else 127.0.0.1:8080]' -r
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l model -d 'Serve this model from the start: an artifact JSON or a bundle .tar.gz (checksums verified)' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l env -d 'Serve a local environment\'s current release and follow its deploys' -r
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l state-dir -d 'Keep uploaded bundles, slots, split and A/B observations in this folder across restarts [default: [serve].state_dir, else none]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l grpc-bind -d 'Also serve the Open Inference Protocol over gRPC on this address and port [default: [serve].grpc_bind, else no gRPC]' -r
complete -c mlops -n "__fish_mlops_using_subcommand serve" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand serve" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand serve" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand serve" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand serve" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand completions" -l output -d 'Write the script to this file, atomically, instead of stdout' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand completions" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand completions" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand completions" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand completions" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand completions" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand completions" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand completions" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand token" -l role -d 'A role the token grants (repeat for both)' -r -f -a "predict\t'Inference and model metadata routes'
admin\t'The admin API'"
complete -c mlops -n "__fish_mlops_using_subcommand token" -l ttl -d 'Lifetime: a number with s, m, h or d (like 15m)' -r
complete -c mlops -n "__fish_mlops_using_subcommand token" -l sub -d 'The token\'s subject (sub)' -r
complete -c mlops -n "__fish_mlops_using_subcommand token" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand token" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand token" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand token" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand token" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand token" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand token" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand token" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -f -a "emit" -d 'Write alerts.yml, alerts_test.yml and dashboard.json for the project\'s model'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and not __fish_seen_subcommand_from emit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l output -l out -d 'The folder to write the three files to (created if needed)' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l job -d 'The Prometheus job that scrapes the server' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l availability -d 'Availability objective: the share of requests answered without a 5xx' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l latency-le -d 'Latency objective\'s bound, seconds: a bucket of mlops_request_duration_seconds' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l latency-target -d 'Latency objective: the share of requests at most --latency-le' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l runbook -d 'Where the runbook annotations point (anchors per alert follow)' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l kube -d 'Also write the rules as a PrometheusRule (prometheusrule.yaml) beside this kubernetes environment\'s manifests' -r
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -s C -l config -d 'The project file [env: MLOPS_CONFIG] [default: mlops.toml in the current folder or the nearest parent]' -r -F
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l format -d 'The report\'s format: text, json (the same as --json), markdown (validate, abtest-analyze) or junit (validate)' -r -f -a "text\t'The human report, for a terminal'
json\t'The JSON document (as --json)'
markdown\t'Markdown for a pull-request comment or $GITHUB_STEP_SUMMARY (validate, abtest-analyze)'
junit\t'JUnit XML, each check a test case (validate)'"
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l color -d 'When to use colours (honours NO_COLOR and CLICOLOR_FORCE)' -r -f -a "auto\t'Colour when stdout is a terminal and NO_COLOR is unset'
always\t'Always colour'
never\t'Never colour'"
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -l json -d 'Print one JSON document on stdout instead of the human report'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -s q -l quiet -d 'Print at most one line on stdout (the summary; a --json document on one line) and no details on stderr'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -s v -l verbose -d 'Say more on stderr (repeat for more)'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from emit" -s V -l version -d 'Print version'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from help" -f -a "emit" -d 'Write alerts.yml, alerts_test.yml and dashboard.json for the project\'s model'
complete -c mlops -n "__fish_mlops_using_subcommand monitor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "init" -d 'Create mlops.toml and a .gitignore (and data with --example); never overwrites'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "train" -d 'Fit the model on the project\'s data, report metrics and write the artifact'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "predict" -d 'Predict every row of a CSV: its columns plus a `prediction` column'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "validate" -d 'Check quality gates, a registered baseline, data and drift; exit 1 on a failure'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "package" -d 'Bundle the committed model reproducibly and register it as NAME@vX.Y.Z'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "models" -d 'List the registry\'s models: latest version and the version in each stage'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "history" -d 'List the registry events in order, of every model or of NAME'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "deploy" -d 'Take a version to an environment, verify it there, record tag NAME#ENV#N'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "rollback" -d 'Put back the previous version (or --to VERSION), with the checks of deploy'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "status" -d 'What each environment\'s targets serve against what the registry says'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "show" -d 'Show a version: metrics, data fingerprint, commit, bundle sha256, stages and events'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "deprecate" -d 'Deprecate a model (tag NAME@deprecated#N): deploy refuses it until a new registration'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "deregister" -d 'Deregister a version (tag NAME@vX.Y.Z!#N): deploy refuses it from then on'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "unassign" -d 'Unassign a stage from its version (tag NAME#STAGE!#N); an older holder comes back'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "abtest-analyze" -d 'Analyse an A/B experiment; decide ship, keep, inconclusive or invalid'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "serve" -d 'Run the model server: REST, Open Inference V2, MLflow scoring, admin API, metrics'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "completions" -d 'Print the completion script of a shell (bash, zsh, fish, powershell, elvish)'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "token" -d 'Mint an HS256 token for [serve.auth] mode = "jwt" (development and CI smoke tests)'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "monitor" -d 'Prometheus alert rules, their promtool tests and a Grafana dashboard for the model'
complete -c mlops -n "__fish_mlops_using_subcommand help; and not __fish_seen_subcommand_from init train predict validate package models history deploy rollback status show deprecate deregister unassign abtest-analyze serve completions token monitor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mlops -n "__fish_mlops_using_subcommand help; and __fish_seen_subcommand_from monitor" -f -a "emit" -d 'Write alerts.yml, alerts_test.yml and dashboard.json for the project\'s model'
