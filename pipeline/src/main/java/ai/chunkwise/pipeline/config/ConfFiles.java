package ai.chunkwise.pipeline.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigUtil;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reading the jobs' HOCON: a {@code --conf} file whose includes must exist, and {@code --set} values.
 *
 * <p>Typesafe Config ignores {@code include "x.conf"} of a missing file (its settings silently vanish), and for
 * {@code include required("/abs/x.conf")} of a missing file it falls back to the class path and reports "resource
 * not found on classpath: abs/x.conf", without the leading {@code /}. Here every file include (plain,
 * {@code file(...)}, {@code required(...)}) is resolved against the including file's directory and must exist; the
 * error names the include as written, the full path looked for and the including file. {@code classpath(...)} and
 * {@code url(...)} includes keep the library's behaviour.
 */
public final class ConfFiles {
    /** A value that starts with a URI scheme and "//" (hdfs://, s3a://, file://): unquoted, HOCON reads "//" as a comment. */
    private static final Pattern URI_VALUE = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://\\S*");

    private ConfFiles() {
    }

    /** Parses a HOCON file (no fallback, not resolved) with includes that must exist. */
    public static Config parse(File file) {
        return ConfigFactory.parseFile(file, options(file));
    }

    private static ConfigParseOptions options(File file) {
        return ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setAllowMissing(false)
                .setIncluder(new StrictFileIncluder(file.getAbsoluteFile()));
    }

    /**
     * A {@code --set} value as HOCON text: as given, except that an unquoted URI ({@code hdfs://nn:8020/x}) is quoted
     * (HOCON would read everything from {@code //} as a comment).
     */
    public static String overrideValue(String value) {
        String v = value.strip();
        return URI_VALUE.matcher(v).matches() ? ConfigUtil.quoteString(v) : value;
    }

    /** The hint added to a --set value that does not parse. */
    public static String quoteHint(String key) {
        return "a value with ':', '//', '#', '{', '[', ',' or '=' in it must be quoted, e.g. --set '" + key
                + "=\"value\"'";
    }

    /** Includes of files, relative to the including file, that must exist. */
    private static final class StrictFileIncluder implements ConfigIncluder, ConfigIncluderFile {
        private final File including;

        StrictFileIncluder(File including) {
            this.including = including;
        }

        /** Nothing falls through to the library's includer for files: a missing one must not be skipped. */
        @Override
        public ConfigIncluder withFallback(ConfigIncluder fallback) {
            return this;
        }

        /** {@code include "name"} and {@code include required("name")}: a file, as in every conf of this project. */
        @Override
        public ConfigObject include(ConfigIncludeContext context, String what) {
            return includeFile("include \"" + what + "\"", new File(what));
        }

        @Override
        public ConfigObject includeFile(ConfigIncludeContext context, File what) {
            return includeFile("include file(\"" + what.getPath() + "\")", what);
        }

        private ConfigObject includeFile(String written, File what) {
            File base = including.getParentFile();
            File file = what.isAbsolute() || base == null ? what : new File(base, what.getPath());
            List<File> candidates = new ArrayList<>(List.of(file));
            if (!file.getName().contains(".")) {   // HOCON's "include \"common\"" means common.conf, .json, .properties
                for (String ext : List.of(".conf", ".json", ".properties")) {
                    candidates.add(new File(file.getPath() + ext));
                }
            }
            for (File c : candidates) {
                if (c.isFile()) {
                    return parse(c).root();
                }
            }
            throw new ConfigException.Generic(written + " in " + including.getPath() + ": "
                    + (candidates.size() == 1 ? "file " + file.getPath() + " does not exist" : "none of " + file.getPath()
                    + "{,.conf,.json,.properties} exists") + " (a relative include is read from the including file's directory); "
                    + "fix the path or remove the include, or its settings would be missing");
        }
    }
}
