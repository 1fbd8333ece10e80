import GatewayIR
import RegexEngine

/// What Envoy Gateway refuses in a route rule while it translates, so that Envoy is never sent
/// what it would NACK: a NACK refuses the whole route configuration of the Gateway, and every
/// later change to it, until someone notices.
extension GatewayTranslator {
    /// Why a rule is not accepted, in Envoy Gateway's words. A rule whose matches cannot be
    /// built is dropped (no routes); a rule whose filters are wrong keeps its routes, answering 500.
    struct RuleRejection: Equatable {
        var messages: [String]
        var dropsRule: Bool
    }

    static func rejection(_ rule: RouteSource.Rule, index: Int, filters: RouteFilters) -> RuleRejection? {
        var messages = filters.problems
        var drops = false
        if let problem = firstRegexProblem(rule) {
            messages.append("failed to process route rule \(index): \(problem)")
            drops = true
        }
        return messages.isEmpty ? nil : RuleRejection(messages: messages, dropsRule: drops)
    }

    /// The first pattern in the rule's matches that Envoy would refuse, checked by RE2 itself.
    static func firstRegexProblem(_ rule: RouteSource.Rule) -> String? {
        for match in rule.matches {
            for pattern in match.patterns {
                if let problem = RE2.problem(pattern) { return RE2.message(pattern, problem) }
            }
        }
        return nil
    }

    /// A condition message as Envoy Gateway finishes them: capitalized, ending in a period.
    static func conditionMessage(_ message: String) -> String {
        guard let first = message.first else { return message }
        let capitalized = first.isLetter ? first.uppercased() + message.dropFirst() : message
        return capitalized.hasSuffix(".") ? capitalized : capitalized + "."
    }
}
