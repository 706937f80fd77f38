import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element, enough to read AWS answers: its name (without namespace prefix),
/// its own text and its children in order.
final class AWSXMLNode: @unchecked Sendable {
    let name: String
    var text = ""
    var children: [AWSXMLNode] = []

    init(name: String) { self.name = name }

    /// The first child named `name`.
    func child(_ name: String) -> AWSXMLNode? { children.first { $0.name == name } }

    /// The children named `name`.
    func children(_ name: String) -> [AWSXMLNode] { children.filter { $0.name == name } }

    /// The element at `path` below this one (`["ChangeInfo", "Status"]`).
    func at(_ path: [String]) -> AWSXMLNode? {
        path.reduce(Optional(self)) { node, name in node?.child(name) }
    }

    /// The trimmed text of the element at `path`.
    func string(_ path: String...) -> String? {
        at(path).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The first element named `name` anywhere below (depth first).
    func first(_ name: String) -> AWSXMLNode? {
        for child in children {
            if child.name == name { return child }
            if let found = child.first(name) { return found }
        }
        return nil
    }

    /// Parses `data`; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> AWSXMLNode? {
        let builder = Builder()
        let parser = XMLParser(data: data)
        parser.delegate = builder
        guard parser.parse() else { return nil }
        return builder.root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: AWSXMLNode?
        private var stack: [AWSXMLNode] = []

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            let node = AWSXMLNode(name: local)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

/// `text` with XML's five special characters escaped, for element content.
func xmlEscaped(_ text: String) -> String {
    var out = ""
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(character)
        }
    }
    return out
}
