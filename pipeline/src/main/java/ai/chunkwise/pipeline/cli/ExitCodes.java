package ai.chunkwise.pipeline.cli;

import ai.chunkwise.pipeline.format.DatasetException;

/**
 * The exit codes of all three jars (README, "Exit codes"): one table, so a scheduler can treat every Chunkwise
 * step alike. A run that the user must fix (a bad option, key or value, a missing or wrong file, a directory that
 * is not a dataset, an output that needs --overwrite or --resume) exits {@link #BAD_INPUT}; one that failed while
 * working (I/O, a corrupt file met mid-run, a bug) exits {@link #FAILED}, which a retry may cure.
 */
public final class ExitCodes {
    /** Done (or nothing to do). */
    public static final int OK = 0;
    /** Failed while running. */
    public static final int FAILED = 1;
    /** Bad usage or input: nothing to retry until the command, its configuration or its input is fixed. */
    public static final int BAD_INPUT = 2;
    /** Training diverged (train.max-nonfinite-steps non-finite steps in a row). */
    public static final int DIVERGED = 3;

    private ExitCodes() {
    }

    /**
     * The code for an exception that ended a command: {@link #BAD_INPUT} for the kinds Chunkwise raises about what
     * the user gave (IllegalArgumentException, a dataset that is not one or fails its checks, a configuration
     * Typesafe Config cannot read, a command line picocli cannot parse), {@link #FAILED} for anything else.
     */
    public static int of(Throwable e) {
        boolean badInput = e instanceof IllegalArgumentException || e instanceof DatasetException
                || e instanceof com.typesafe.config.ConfigException
                || e instanceof picocli.CommandLine.ParameterException;
        return badInput ? BAD_INPUT : FAILED;
    }
}
