# bash completion for linger(1)                              -*- shell-script -*-
#
# Installed as share/bash-completion/completions/linger; to try it from a
# source tree: `source scripts/linger-completion.bash`.  Works with and
# without the bash-completion package (it only uses bash built-ins, and
# bash-completion's _command_offset when it is there, to complete the
# arguments of the command after `linger run --`).

_linger_commands="run report help"

_linger_run_options="--output= -o --snapshot-signal= --snapshot-interval= --native --no-native
    --native-depth= --python-depth= --no-alloc --trace-all --redact-keys --fail-on= --suppressions=
    --help"

_linger_report_options="--format= --output= -o --fail-on= --suppressions= --no-default-suppressions
    --generate-suppressions --baseline= --max-memory= --progress --no-progress --all --instances
    --live-cycles --stacks --diff --snapshots= --help"

_linger_formats="text json dot svg html"

_linger_kinds="finalizer-keepalive bound-method-cycle weakref-callback-keepalive
    weak-container-keepalive closure-cycle reference-cycle uncollectable resurrected leak
    gc-collected error warning info any"

_linger_signals="SIGUSR1 SIGUSR2 SIGRTMIN+1 off"

# Options of `linger run` whose value may be the next word ("-o FILE").
_linger_run_takes_value="-o --output --snapshot-signal --snapshot-interval --native-depth
    --python-depth --fail-on --suppressions"

# Fills COMPREPLY with the words of $1 that start with $2, each with $3
# in front (what precedes the value being completed on the same word).
_linger_reply_words()
{
    local word IFS=$' \t\n'
    COMPREPLY=()
    for word in $1; do
        [[ $word == "$2"* ]] && COMPREPLY+=("$3$word")
    done
}

# Files (and directories, to descend into) for the value $1; $2 is a glob
# the files must match (empty: any file), $3 the prefix as above.
_linger_reply_files()
{
    local glob=$2 prefix=$3 f
    local IFS=$'\n'
    COMPREPLY=()
    for f in $(compgen -d -- "$1"); do
        COMPREPLY+=("$prefix$f/")
    done
    if [[ -n $glob ]]; then
        for f in $(compgen -f -X "!$glob" -- "$1"); do
            [[ -d $f ]] || COMPREPLY+=("$prefix$f")
        done
    else
        for f in $(compgen -f -- "$1"); do
            [[ -d $f ]] || COMPREPLY+=("$prefix$f")
        done
    fi
    # A directory gets no space after it, so that completion goes on inside.
    compopt -o nospace 2>/dev/null
    compopt -o filenames 2>/dev/null
}

# The value of option $1 (without '='), typed so far as $2; $3 goes in
# front of each reply.  Returns 1 if $1 takes no value linger completes.
_linger_complete_value()
{
    local option=$1 value=$2 prefix=$3
    case $option in
        --format|-f)
            _linger_reply_words "$_linger_formats" "$value" "$prefix" ;;
        --fail-on)
            # A comma-separated list: complete its last item.
            local done_part=""
            [[ $value == *,* ]] && done_part=${value%,*},
            _linger_reply_words "$_linger_kinds" "${value##*,}" "$prefix$done_part"
            compopt -o nospace 2>/dev/null ;;
        --snapshot-signal)
            _linger_reply_words "$_linger_signals" "$value" "$prefix" ;;
        --output|-o|--suppressions)
            _linger_reply_files "$value" "" "$prefix" ;;
        --baseline)
            _linger_reply_files "$value" "*.json" "$prefix" ;;
        --snapshot-interval|--native-depth|--python-depth|--max-memory|--snapshots)
            COMPREPLY=() ;;
        *)
            return 1 ;;
    esac
    return 0
}

_linger()
{
    # bash splits "--format=js" into "--format" "=" "js" (COMP_WORDBREAKS
    # has '='); join them back so that every word is what was typed, and
    # remember whether the word being completed was split.
    local -a words=()
    local i cword=-1 token
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        token=${COMP_WORDS[i]}
        local n=${#words[@]}
        if ((n > 0)) && [[ $token == "=" && ${words[n - 1]} == -* && ${words[n - 1]} != *=* ]]; then
            words[n - 1]+="="
        elif ((n > 0)) && [[ ${words[n - 1]} == -*= && $i -gt 0 && ${COMP_WORDS[i - 1]} == "=" ]]; then
            words[n - 1]+=$token
        else
            words+=("$token")
        fi
        ((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
    done
    ((cword < 0)) && { words+=(""); cword=$((${#words[@]} - 1)); }
    local cur=${words[cword]}
    local prev=""
    ((cword > 0)) && prev=${words[cword - 1]}
    # Replies replace the text after the last '=' when bash split there.
    local split=0
    [[ $cur == -*=* && ${COMP_WORDS[COMP_CWORD]} != "$cur" ]] && split=1

    COMPREPLY=()
    if ((cword == 1)); then
        _linger_reply_words "$_linger_commands --help --version" "$cur" ""
        return 0
    fi

    local command=${words[1]}
    case $command in
        help)
            ((cword == 2)) && _linger_reply_words "run report" "$cur" ""
            return 0 ;;
        run)
            # Where COMMAND starts: after "--", or at the first word that is
            # not an option of linger run.
            local start=-1 skip=0
            for ((i = 2; i < cword; i++)); do
                if ((skip)); then skip=0; continue; fi
                token=${words[i]}
                if [[ $token == "--" ]]; then start=$((i + 1)); break; fi
                if [[ $token == -* ]]; then
                    [[ " ${_linger_run_takes_value//$'\n'/ } " == *" $token "* ]] && skip=1
                    continue
                fi
                start=$i
                break
            done
            if ((start >= 0)); then
                if ((cword == start)); then
                    local IFS=$'\n'
                    COMPREPLY=($(compgen -c -- "$cur"))
                elif declare -F _command_offset >/dev/null; then
                    _command_offset "$start"
                else
                    _linger_reply_files "$cur" "" ""
                fi
                return 0
            fi
            ;;
        report) ;;
        *) return 0 ;;
    esac

    # An option's value: "--opt=VALUE" or "--opt VALUE".
    if [[ $cur == -*=* ]]; then
        local option=${cur%%=*} value=${cur#*=} prefix=""
        ((split)) || prefix="$option="
        _linger_complete_value "$option" "$value" "$prefix"
        return 0
    fi
    if [[ -n $prev && $prev == -* && $prev != *=* ]] && _linger_complete_value "$prev" "$cur" ""; then
        return 0
    fi

    if [[ $cur == -* ]]; then
        if [[ $command == run ]]; then
            _linger_reply_words "$_linger_run_options" "$cur" ""
        else
            _linger_reply_words "$_linger_report_options" "$cur" ""
        fi
        # "--format=" waits for its value; others get their space.
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
        return 0
    fi

    if [[ $command == run ]]; then
        # The command to run.
        local IFS=$'\n'
        COMPREPLY=($(compgen -c -- "$cur"))
    else
        _linger_reply_files "$cur" "*.trace" ""
    fi
    return 0
} &&
    complete -F _linger linger

# ex: filetype=sh
