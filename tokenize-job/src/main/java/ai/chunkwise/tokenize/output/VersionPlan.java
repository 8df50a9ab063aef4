package ai.chunkwise.tokenize.output;

import ai.chunkwise.pipeline.format.DatasetVersion;
import ai.chunkwise.pipeline.format.DatasetVersion.InputFile;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.tokenize.input.InputFiles;
import org.apache.hadoop.fs.FileStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeSet;

/**
 * What a run will publish, decided before any Spark work from the dataset already in the output directory.
 *
 * @param kind     a complete new version, an increment over the previous one, or nothing
 * @param number   the version number to publish (unused for NOTHING)
 * @param previous the current version's manifest, null when there is none
 * @param files    the input files to tokenize (all of them for FULL, the new ones for INCREMENT)
 * @param reason   why, in words, for the log
 */
public record VersionPlan(Kind kind, int number, Manifest previous, List<FileStatus> files, String reason) {

    public enum Kind { FULL, INCREMENT, NOTHING }

    /** Tokenize modes: {@code full} re-tokenizes every input file; {@code incremental} only files not seen before. */
    public static final List<String> MODES = List.of("full", "incremental");

    /**
     * @param existing  the output's current manifest, or null
     * @param producer  what this run's configuration produces (see {@link DatasetVersion#producer()})
     * @param overwrite whether an existing dataset may be replaced by a complete new version
     */
    public static VersionPlan decide(String mode, boolean overwrite, Manifest existing, SortedMap<String, Object> producer,
                                     InputFiles input, String output) {
        List<FileStatus> all = input.files();
        if (existing == null) {
            return new VersionPlan(Kind.FULL, 1, null, all, output + " holds no dataset yet");
        }
        DatasetVersion current = existing.datasetVersion();
        int next = current == null ? 1 : current.number() + 1;
        if (mode.equals("full")) {
            if (!overwrite) {
                throw new IllegalArgumentException("output directory " + output + " already holds a dataset ("
                        + Manifest.FILE_NAME + "); pass --overwrite (or set tokenize.overwrite = true) to replace it with "
                        + "a complete new version, --mode incremental to add only new input files, or choose another --output");
            }
            return new VersionPlan(Kind.FULL, next, existing, all, "--overwrite: a complete new version");
        }
        // incremental
        String incompatible = current == null
                ? "it was written by an older tokenize-job and carries no fingerprint"
                : differences(current.producer(), producer);
        if (incompatible == null) {
            incompatible = changedInputs(current.inputFiles(), input);
        }
        if (incompatible != null) {
            if (!overwrite) {
                throw new IllegalArgumentException("cannot add to the dataset in " + output + ": " + incompatible
                        + "; incremental mode only adds new input files. Pass --overwrite to publish a complete new version "
                        + "(the current one stays readable until it is done), or choose another --output");
            }
            return new VersionPlan(Kind.FULL, next, existing, all, incompatible + ": a complete new version (--overwrite)");
        }
        Map<String, InputFile> seen = current.inputFiles();
        List<FileStatus> fresh = new ArrayList<>();
        for (FileStatus f : all) {
            if (!seen.containsKey(input.keyOf(f))) {
                fresh.add(f);
            }
        }
        if (fresh.isEmpty()) {
            return new VersionPlan(Kind.NOTHING, current.number(), existing, List.of(),
                    "nothing to do: version " + current.number() + " of " + output + " already holds all "
                            + all.size() + " input file(s) with this configuration");
        }
        return new VersionPlan(Kind.INCREMENT, next, existing, fresh,
                fresh.size() + " new input file(s) on top of version " + current.number());
    }

    /** Whether two plans (the training and held-out halves of one split) publish the same kind over the same files. */
    public boolean sameWork(VersionPlan other) {
        return kind == other.kind && files.equals(other.files);
    }

    /** This output's complete new version over all the input files (--overwrite). */
    public VersionPlan asFull(List<FileStatus> all) {
        int next = previous == null || previous.datasetVersion() == null ? 1 : previous.datasetVersion().number() + 1;
        return new VersionPlan(Kind.FULL, next, previous, all, "the training and held-out sets were not at the same "
                + "input: both published anew (--overwrite)");
    }

    /** The producer keys whose values differ, "chunk-size 128 -> 64, ...", or null when equal. */
    static String differences(SortedMap<String, Object> was, SortedMap<String, Object> now) {
        List<String> d = new ArrayList<>();
        TreeSet<String> keys = new TreeSet<>(was.keySet());
        keys.addAll(now.keySet());
        for (String k : keys) {
            // compare through strings: JSON numbers come back as Integer/Long/Double
            if (!Objects.equals(String.valueOf(was.get(k)), String.valueOf(now.get(k)))) {
                d.add(k + " " + was.get(k) + " -> " + now.get(k));
            }
        }
        return d.isEmpty() ? null : "its configuration differs (" + String.join(", ", d) + ")";
    }

    /** Input files tokenized before that are now gone or different, or null when all are unchanged. */
    static String changedInputs(Map<String, InputFile> seen, InputFiles input) {
        Map<String, FileStatus> now = new java.util.HashMap<>();
        input.files().forEach(f -> now.put(input.keyOf(f), f));
        List<String> changed = new ArrayList<>();
        for (InputFile f : seen.values()) {
            FileStatus s = now.get(f.path());
            if (s == null) {
                changed.add(f.path() + " is gone");
            } else if (s.getLen() != f.bytes() || s.getModificationTime() != f.mtime()) {
                changed.add(f.path() + " changed (" + f.bytes() + " -> " + s.getLen() + " bytes, mtime " + f.mtime()
                        + " -> " + s.getModificationTime() + ")");
            }
        }
        if (changed.isEmpty()) {
            return null;
        }
        return "input files tokenized before changed: " + String.join(", ", changed.subList(0, Math.min(3, changed.size())))
                + (changed.size() > 3 ? ", and " + (changed.size() - 3) + " more" : "");
    }
}
