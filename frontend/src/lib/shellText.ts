// The shell's own texts (search, bell, menu, views, exports) in both languages, kept beside the
// components that use them (picked with useI18n().label).
export const SHELL_TEXT = {
  menu: { en: "Menu", zh: "菜单" },
  search: { en: "Search", zh: "搜索" },
  searchPlaceholder: { en: "Search names, phones, emails…  (/)", zh: "搜索姓名、电话、邮箱…（/）" },
  searchResults: { en: "Search results", zh: "搜索结果" },
  searching: { en: "Searching…", zh: "正在搜索…" },
  noResults: { en: "No matches.", zh: "没有匹配的记录。" },
  notifications: { en: "Notifications", zh: "通知" },
  unread: { en: "{n} unread", zh: "{n} 条未读" },
  markRead: { en: "Mark read", zh: "标为已读" },
  markAllRead: { en: "Mark all read", zh: "全部标为已读" },
  noNotifications: { en: "No notifications.", zh: "没有通知。" },
  views: { en: "Saved lists", zh: "已存列表" },
  allRecords: { en: "All records", zh: "全部记录" },
  viewName: { en: "List title", zh: "列表标题" },
  saveView: { en: "Save this list", zh: "保存此列表" },
  viewSaved: { en: "List saved.", zh: "列表已保存。" },
  deleteView: { en: "Delete list", zh: "删除列表" },
  viewDeleted: { en: "List deleted.", zh: "列表已删除。" },
  sharedBy: { en: "shared by {name}", zh: "{name} 共享" },
  shareTeams: { en: "Share with teams (names, comma-separated)", zh: "共享给团队（名称，逗号分隔）" },
  shareRoles: { en: "Share with roles (names, comma-separated)", zh: "共享给角色（名称，逗号分隔）" },
  export: { en: "Download as file", zh: "下载为文件" },
  exportStart: { en: "Export {format}", zh: "导出 {format}" },
  exportRunning: { en: "Exporting: {done} of {total} rows", zh: "正在导出：{done} / {total} 行" },
  exportPending: { en: "Export queued…", zh: "导出排队中…" },
  exportDone: { en: "Export ready: {n} rows", zh: "导出完成：{n} 行" },
  exportFailed: { en: "The export failed.", zh: "导出失败。" },
  download: { en: "Download", zh: "下载" },
  close: { en: "Close", zh: "关闭" },
} as const;

/** Fill {name} placeholders of a picked text. */
export function fill(text: string, vars: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}
