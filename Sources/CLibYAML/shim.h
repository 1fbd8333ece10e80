// libyaml's one header, from Debian's libyaml-dev: YAMLTree parses with it, CanonicalText emits.
#include <yaml.h>
