// libxml2's XML Schema validator, for CAP documents checked against the OASIS CAP 1.2 schema: no
// Swift package on this machine validates XSD (see docs/architecture.md).
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU; its ICU headers clash with Foundation's own copy of ICU. Nothing
// here touches the encoding handlers those headers describe, so they are left out.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>
