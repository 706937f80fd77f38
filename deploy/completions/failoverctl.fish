function __failoverctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __failoverctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __failoverctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __failoverctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __failoverctl_parse_tokens -S
    set -l unparsed_tokens (__failoverctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'failoverctl'
        __failoverctl_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'run'
            __failoverctl_parse_subcommand 0 'config=' 'log-level=' 'h/help'
        case 'check'
            __failoverctl_parse_subcommand 0 'config=' 'h/help'
        case 'status'
            __failoverctl_parse_subcommand 0 'config=' 'endpoint=' 'json' 'watch=' 'no-color' 'h/help'
        case 'events'
            __failoverctl_parse_subcommand 0 'config=' 'site=' 'group=' 'since=' 'limit=' 'endpoint=' 'json' 'h/help'
        case 'report'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'limit=' 'endpoint=' 'json' 'h/help'
        case 'drill'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'endpoint=' 'planned' 'to=' 'failback' 'dry-run' 'json' 'wait=' 'h/help'
        case 'failover'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'endpoint=' 'to=' 'force' 'dry-run' 'json' 'wait=' 'h/help'
        case 'pause'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'endpoint=' 'h/help'
        case 'resume'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'endpoint=' 'h/help'
        case 'rejoin'
            __failoverctl_parse_subcommand 0 'config=' 'group=' 'endpoint=' 'site=' 'timeout=' 'h/help'
        case 'help'
            __failoverctl_parse_subcommand -r 1 
        end
    end
end

function __failoverctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __failoverctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __failoverctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __failoverctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__failoverctl_tokens -p)
    if test -z "$(__failoverctl_tokens -t)"
        set -l index (count (__failoverctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'failoverctl' -f
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'run' -d 'Run the controller: probe every site, record verdicts, serve the status API.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'check' -d 'Validate the configuration and print a summary (exit 2 on an error).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'status' -d 'Show every site\'s verdict and last check results.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'events' -d 'Show recorded events (verdicts, failovers and their steps, controller starts and stops).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'report' -d 'Show incidents and drills: RTO and its phases, RPO, DNS TTL, pass/fail against targets.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'drill' -d 'Run a planned DR drill: switch a group over to a standby (and back with --failback).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'failover' -d 'Fail a group over to a site now (manual failover).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'pause' -d 'Pause a group: probes go on, no failover starts or continues until resume.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'resume' -d 'Resume a group; a paused or stuck plan continues at its stored step.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'rejoin' -d 'Turn a site\'s database into a streaming replica of the group\'s primary (stop, pg_rewind, start).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_positional "failoverctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl run" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl run" log-level' -l 'log-level' -d 'Log level: trace, debug, info, notice, warning, error, critical.' -rfka 'trace debug info notice warning error critical'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl run" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl check" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" json' -l 'json' -d 'Print JSON (the shape of GET /status).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" watch' -l 'watch' -d 'Redraw every this often until interrupted, e.g. 2s (the exit code is then that of the last report).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" no-color' -l 'no-color' -d 'No colours, even on a terminal (NO_COLOR in the environment does the same).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" site' -l 'site' -d 'Only events about this site.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" group' -l 'group' -d 'Only events about this failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" since' -l 'since' -d 'Only events newer than this, e.g. 10m, 2h.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" limit' -l 'limit' -d 'At most this many (the most recent).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" json' -l 'json' -d 'Print JSON (the shape of GET /events).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl events" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" group' -l 'group' -d 'Only this group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" limit' -l 'limit' -d 'At most this many (the most recent).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" json' -l 'json' -d 'Print JSON (the shape of GET /incidents).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl report" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" group' -l 'group' -d 'The failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" planned' -l 'planned' -d 'A planned switchover (the only kind of drill; required, to say what you mean).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" to' -l 'to' -d 'The standby to switch to (default: the one the election picks).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" failback' -l 'failback' -d 'Return to the current primary after verification, as a second drill.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" dry-run' -l 'dry-run' -d 'Print the resolved plan and run nothing, not even the pre hook.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" json' -l 'json' -d 'Print JSON (the plan with --dry-run).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" wait' -l 'wait' -d 'How long to follow the run before giving up waiting (it goes on), e.g. 10m.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl drill" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" group' -l 'group' -d 'The failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" to' -l 'to' -d 'The site to make primary.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" force' -l 'force' -d 'Skip the up and replication-lag checks on the target (at your risk).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" dry-run' -l 'dry-run' -d 'Print the resolved plan and run nothing, not even the pre hook.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" json' -l 'json' -d 'Print JSON (the plan with --dry-run).'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" wait' -l 'wait' -d 'How long to follow the run before giving up waiting (it goes on), e.g. 10m.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl failover" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl pause" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl pause" group' -l 'group' -d 'The failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl pause" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl pause" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl resume" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl resume" group' -l 'group' -d 'The failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl resume" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl resume" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" config' -l 'config' -d 'The controller file (default: $FAILOVERCTL_CONFIG, else /etc/failoverctl/failoverctl.yaml).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" group' -l 'group' -d 'The failover group.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" endpoint' -l 'endpoint' -d 'The controller API base URL (default: http://<controller.listen>).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" site' -l 'site' -d 'The site whose database rejoins (not the group\'s primary).' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" timeout' -l 'timeout' -d 'How long the rejoin may take, e.g. 5m.' -rfka ''
complete -c 'failoverctl' -n '__failoverctl_should_offer_completions_for_flags_or_options "failoverctl rejoin" h help' -s 'h' -l 'help' -d 'Show help information.'
