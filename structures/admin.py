from django.contrib import admin

from structures import conventions
from structures.models import Caisse, CaisseMembership, Convention, Membership, Structure


@admin.register(Caisse)
class CaisseAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


class ConventionInline(admin.TabularInline):
    model = Convention
    extra = 0
    # A status changes through the administrateur's page, which asks for confirmation, logs the change and tells the
    # structure's gestionnaires (structures/services.py update_convention).
    readonly_fields = ["status"]


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ["name", "siret", "kind", "headcount"]
    search_fields = ["name", "siret"]
    inlines = [ConventionInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        conventions.forget(form.instance.pk)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Memberships change through the service pages, which keep seats and sessions consistent."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "structure", "role", "is_active"]
    list_filter = ["role", "is_active"]


@admin.register(CaisseMembership)
class CaisseMembershipAdmin(ReadOnlyAdmin):
    list_display = ["user", "caisse", "role", "is_active"]
    list_filter = ["role", "is_active", "caisse"]
