# bash completion for sqlpool(1). Install as
# $(pkg-config --variable=completionsdir bash-completion)/sqlpool, or source it.

_sqlpool() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null 2>&1; then
        # -s: "--opt=val" comes back as prev=--opt, cur=val; -n :, so ":memory:" is one word.
        _init_completion -s -n : || return
    else
        # Without bash-completion, readline splits "--opt=val" into "--opt" "=" "val".
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        if [[ $cur == = ]]; then
            cur=
        elif [[ $prev == = ]] && ((cword > 1)); then
            prev=${COMP_WORDS[COMP_CWORD - 2]}
        fi
    fi

    # The command: the first word after "sqlpool" when it is one; run when there is none.
    local cmd=run
    if ((cword > 1)); then
        case ${words[1]} in
        run | health | bench) cmd=${words[1]} ;;
        esac
    fi

    local pg_opts="--pg-unnamed-statements --pg-reset-query --statement-timeout"
    local run_opts="--input --output --db --pool-size --timeout --retries --quiet
        --log-level --init-sql $pg_opts --read-db --help --version"
    local health_opts="--db --timeout --retries --log-level --init-sql $pg_opts --help --version"
    local bench_opts="--db --clients --duration --transactions --pool-size --max-open
        --acquire-timeout --barge-window --timeout --retries --workload --write-ratio
        --single-writer --group-commit --compare --think-time --mode --fail-connect
        --kill-every --sweep --json --plot --timeline --metrics-listen --log-level --init-sql
        $pg_opts --read-db --help --version"

    case $prev in
    --log-level)
        COMPREPLY=($(compgen -W "debug info warning error" -- "$cur"))
        return
        ;;
    --workload)
        COMPREPLY=($(compgen -W "select1 insert read-write mixed" -- "$cur"))
        return
        ;;
    --compare)
        COMPREPLY=($(compgen -W "single-writer" -- "$cur"))
        return
        ;;
    --mode)
        COMPREPLY=($(compgen -W "pooled unpooled both" -- "$cur"))
        return
        ;;
    --sweep)
        COMPREPLY=($(compgen -W "clients= pool-size=" -- "$cur"))
        compopt -o nospace 2>/dev/null
        return
        ;;
    --input | --output | --plot | --timeline)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return
        ;;
    --read-db)
        return # a PostgreSQL database string: nothing to offer
        ;;
    --db)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur") $(compgen -W ":memory:" -- "$cur"))
        declare -F __ltrim_colon_completions >/dev/null 2>&1 && __ltrim_colon_completions "$cur"
        return
        ;;
    --pool-size | --timeout | --retries | --clients | --duration | --transactions | \
        --max-open | --acquire-timeout | --barge-window | --think-time | --fail-connect | --kill-every | \
        --write-ratio | --metrics-listen | --init-sql | --pg-reset-query | --statement-timeout)
        return # a number (or ADDRESS:PORT, or SQL): nothing to offer
        ;;
    esac

    if [[ $cur == -* ]]; then
        local opts
        case $cmd in
        health) opts=$health_opts ;;
        bench) opts=$bench_opts ;;
        *) opts=$run_opts ;;
        esac
        # Every option may be given once: leave out those already on the line.
        local w used=" "
        for w in "${words[@]:1:cword-1}"; do
            [[ $w == --* ]] && used+="${w%%=*} "
        done
        local o left=()
        for o in $opts; do
            [[ $used == *" $o "* ]] || left+=("$o")
        done
        COMPREPLY=($(compgen -W "${left[*]}" -- "$cur"))
        return
    fi

    if ((cword == 1)); then
        COMPREPLY=($(compgen -W "run health bench" -- "$cur"))
    fi
}
complete -F _sqlpool sqlpool
