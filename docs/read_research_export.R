# Read a HarmonyBridge research export in R (not run by the tests).
# Needs haven (SPSS) and, for the Parquet files, arrow:
#   install.packages(c("haven", "arrow"))   # or Debian: r-cran-haven
library(haven)

zip_path <- "alliance-2026.zip"
dir <- tempfile("hb-export-")
unzip(zip_path, exdir = dir)

# Wide: one row per respondent x session, with variable and value labels.
wide <- read_sav(file.path(dir, "wide.sav"))
print(attr(wide$phq9_1, "label"))       # "PHQ-9 item 1: Little interest or pleasure ..."
print(attr(wide$phq9_1, "labels"))      # Not at all = 0, Several days = 1, ...
wide$phq9_1_f <- as_factor(wide$phq9_1) # answers as labelled factor levels

# Long tidy data: one row per answer (items) or per score.
items <- read.csv(file.path(dir, "items.csv"), stringsAsFactors = FALSE)
# an empty subscale is the total; an empty number is missing
scores <- read.csv(file.path(dir, "scores.csv"), stringsAsFactors = FALSE)
if (requireNamespace("arrow", quietly = TRUE)) {
  items <- as.data.frame(arrow::read_parquet(file.path(dir, "items.parquet")))
}

# PHQ-9 totals by day since the engagement's start, client ratings only.
phq9 <- subset(scores, instrument == "phq9" & subscale == "" & rater_role == "client")
print(aggregate(score ~ session, data = phq9, FUN = mean))
